// SPDX-License-Identifier: GPL-2.0-or-later
/* Shared helpers for the bare-metal aarch64 guests (PL011 UART, PSCI). */
#ifndef EXECLOG_GUEST_H
#define EXECLOG_GUEST_H

#include <stdint.h>

#define PSCI_CPU_OFF		0x84000002u
#define PSCI_SYSTEM_OFF		0x84000008u
#define PSCI_CPU_ON_64		0xC4000003u

uint64_t psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
void psci_system_off(void) __attribute__((noreturn));
void psci_cpu_off(void);

void uart_init(void);
void uart_putc(char c);
void uart_puts(const char *s);
void uart_puthex(uint64_t v, int digits);
void uart_flush(void);

void secondary_entry(void);	/* start.S */
void secondary_main(void);	/* weak default in common.c */
void unexpected_exception(uint64_t esr, uint64_t elr);
int main(void);

#endif
