// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Entry code for the bare-metal aarch64 guests.  QEMU starts CPU 0 at
 * _start in EL1 with the MMU off; the other CPUs stay powered off until
 * CPU 0 starts them with PSCI CPU_ON at secondary_entry.
 */
	.file	"start.S"	/* fixed name: keeps the ELF symbol table reproducible */
	.section .text.boot, "ax"
	.global _start
_start:
	/* Only CPU 0 is expected here; park anything else. */
	mrs	x1, mpidr_el1
	and	x1, x1, #0xff
	cbnz	x1, park

	adrp	x1, vectors
	add	x1, x1, :lo12:vectors
	msr	vbar_el1, x1
	isb

	/* Clear .bss (16-byte aligned at both ends). */
	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
1:	cmp	x1, x2
	b.hs	2f
	stp	xzr, xzr, [x1], #16
	b	1b
2:
	adrp	x1, stack0_top
	add	x1, x1, :lo12:stack0_top
	mov	sp, x1
	bl	main
	bl	psci_system_off
	b	park

	/* PSCI CPU_ON target: x0 is the context, the new CPU's stack top. */
	.global secondary_entry
secondary_entry:
	adrp	x1, vectors
	add	x1, x1, :lo12:vectors
	msr	vbar_el1, x1
	isb
	mov	sp, x0
	bl	secondary_main
	bl	psci_cpu_off
	.global park
park:
	wfi
	b	park

	/*
	 * Exception vectors: nothing is expected to trap.  Report the
	 * syndrome and hang so a broken guest is noticed (no clean exit).
	 */
	.section .text.vectors, "ax"
	.balign	2048
vectors:
	.rept	16
	.balign	128
	mrs	x0, esr_el1
	mrs	x1, elr_el1
	b	unexpected_exception
	.endr

	.bss
	.balign	16
stack0:
	.space	8192
stack0_top:
