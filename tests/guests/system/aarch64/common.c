// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * PL011 UART output and PSCI calls for the bare-metal aarch64 guests.
 *
 * The MMU stays off, so every data access is to Device memory: all
 * accesses here and in the guests are naturally aligned.
 */
#include "guest.h"

#define UART_BASE	0x09000000ul
#define UART_DR		0x00
#define UART_FR		0x18
#define UART_CR		0x30
#define FR_TXFF		(1u << 5)
#define FR_TXFE		(1u << 7)
#define CR_UARTEN	(1u << 0)
#define CR_TXE		(1u << 8)
#define CR_RXE		(1u << 9)

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
	uint32_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

void uart_init(void)
{
	mmio_write32(UART_BASE + UART_CR, CR_UARTEN | CR_TXE | CR_RXE);
}

void uart_putc(char c)
{
	while (mmio_read32(UART_BASE + UART_FR) & FR_TXFF)
		;
	mmio_write32(UART_BASE + UART_DR, (uint8_t)c);
}

void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

void uart_puthex(uint64_t v, int digits)
{
	for (int i = digits - 1; i >= 0; i--)
		uart_putc("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
}

void uart_flush(void)
{
	while (!(mmio_read32(UART_BASE + UART_FR) & FR_TXFE))
		;
}

/* SMCCC call through HVC: the virt board's PSCI conduit when EL2/EL3 are
 * not emulated.  x0-x3 carry results; x4-x17 may be clobbered. */
uint64_t psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;

	__asm__ volatile("hvc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
			 :
			 : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
			   "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	return x0;
}

void psci_system_off(void)
{
	uart_flush();
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ volatile("wfi");
}

void psci_cpu_off(void)
{
	psci_call(PSCI_CPU_OFF, 0, 0, 0);
}

__attribute__((weak)) void secondary_main(void)
{
}

void unexpected_exception(uint64_t esr, uint64_t elr)
{
	uart_puts("\nunexpected exception esr=");
	uart_puthex(esr, 8);
	uart_puts(" elr=");
	uart_puthex(elr, 16);
	uart_puts("\n");
	for (;;)
		__asm__ volatile("wfi");
}
