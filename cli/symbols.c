/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Symbols for --elf (symbols.h): each file's symbol table read with libelf
 * (the ELF parsing is libelf's, not ours), kept sorted by address, and
 * looked up by binary search; lookups by static instruction are
 * remembered, so that a dump of millions of lines looks each instruction
 * up once.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "symbols.h"

typedef struct Sym {
    uint64_t start, size;   /* the file's own (link) addresses */
    const char *name;       /* into the file's string pool */
    uint32_t shndx;
    uint32_t id;
    uint8_t rank;           /* which of several at one address to show */
} Sym;

typedef struct Section {
    uint64_t start, end;
    uint32_t index;
} Section;

typedef struct ElfFile {
    char *path;
    bool is_dyn;            /* ET_DYN: a shared object or a PIE */
    uint64_t bias;          /* guest address - link address */
    uint64_t lo, hi;        /* link addresses its PT_LOAD segments span */
    uint64_t first_vaddr;   /* of the segment mapped from file offset 0 */
    Sym *sized;             /* symbols with a size, by start */
    size_t n_sized;
    Sym *bare;              /* symbols of size 0, by start */
    size_t n_bare;
    Section *secs;          /* allocated sections, by start */
    size_t n_secs;
    char *pool;             /* names */
} ElfFile;

typedef struct MemoSlot {
    const ElInsnInfo *key;
    uint32_t id;            /* UINT32_MAX: no symbol */
    uint64_t offset;
} MemoSlot;

struct Symbols {
    ElfFile *f;
    size_t n;
    const char **names;     /* by id */
    uint32_t n_syms;
    MemoSlot *memo;
    size_t memo_mask, memo_used;
};

static int cmp_sym(const void *a, const void *b)
{
    const Sym *x = a, *y = b;

    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->size != y->size) {
        return x->size > y->size ? -1 : 1;
    }
    if (x->rank != y->rank) {
        return x->rank > y->rank ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

static int cmp_sec(const void *a, const void *b)
{
    const Section *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

/* Keep one of each run of symbols with the same start and size. */
static size_t dedup(Sym *s, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (k && s[k - 1].start == s[i].start && s[k - 1].size == s[i].size) {
            continue;
        }
        s[k++] = s[i];
    }
    return k;
}

static uint8_t rank_of(const GElf_Sym *sym)
{
    uint8_t r = 0;

    switch (GELF_ST_BIND(sym->st_info)) {
    case STB_GLOBAL:
        r = 6;
        break;
    case STB_WEAK:
        r = 4;
        break;
    default:
        r = 2;
        break;
    }
    return r + (GELF_ST_TYPE(sym->st_info) == STT_FUNC);
}

static bool wanted(const GElf_Sym *sym, const char *name)
{
    int type = GELF_ST_TYPE(sym->st_info);

    if (!name || !name[0] || name[0] == '$' ||
        (name[0] == '.' && name[1] == 'L')) {
        return false;               /* mapping symbols, local labels */
    }
    if (type == STT_SECTION || type == STT_FILE || type == STT_TLS) {
        return false;
    }
    return sym->st_shndx != SHN_UNDEF && sym->st_shndx < SHN_LORESERVE;
}

/* Read @f's symbols and layout. False with @why set. */
static bool read_elf(ElfFile *f, Elf *e, const char **why)
{
    GElf_Ehdr eh;
    Elf_Scn *scn = NULL, *symscn = NULL;
    GElf_Shdr sh, symsh = { 0 };
    Elf_Data *data;
    size_t nph, n, pool_len = 0, pool_cap = 0;
    uint64_t min_off = UINT64_MAX;

    if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
        *why = "not an ELF file";
        return false;
    }
    f->is_dyn = eh.e_type == ET_DYN;
    f->lo = UINT64_MAX;
    f->hi = 0;
    f->first_vaddr = 0;
    if (elf_getphdrnum(e, &nph) == 0) {
        for (size_t i = 0; i < nph; i++) {
            GElf_Phdr ph;

            if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD) {
                continue;
            }
            if (ph.p_vaddr < f->lo) {
                f->lo = ph.p_vaddr;
            }
            if (ph.p_vaddr + ph.p_memsz > f->hi) {
                f->hi = ph.p_vaddr + ph.p_memsz;
            }
            if (ph.p_offset < min_off) {
                min_off = ph.p_offset;
                f->first_vaddr = ph.p_vaddr - ph.p_offset;
            }
        }
    }
    /* the symbol table, else the dynamic one; and the allocated sections */
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        if (!gelf_getshdr(scn, &sh)) {
            continue;
        }
        if (sh.sh_type == SHT_SYMTAB ||
            (sh.sh_type == SHT_DYNSYM && !symscn)) {
            symscn = scn;
            symsh = sh;
        }
        if ((sh.sh_flags & SHF_ALLOC) && sh.sh_size) {
            Section *ns = realloc(f->secs, (f->n_secs + 1) * sizeof(*ns));

            if (!ns) {
                *why = "out of memory";
                return false;
            }
            f->secs = ns;
            f->secs[f->n_secs].start = sh.sh_addr;
            f->secs[f->n_secs].end = sh.sh_addr + sh.sh_size;
            f->secs[f->n_secs].index = (uint32_t)elf_ndxscn(scn);
            f->n_secs++;
            if (f->lo == UINT64_MAX || nph == 0) {
                /* no program headers (an object file): its sections */
                if (sh.sh_addr < f->lo) {
                    f->lo = sh.sh_addr;
                }
                if (sh.sh_addr + sh.sh_size > f->hi) {
                    f->hi = sh.sh_addr + sh.sh_size;
                }
            }
        }
    }
    if (f->n_secs) {
        qsort(f->secs, f->n_secs, sizeof(*f->secs), cmp_sec);
    }
    if (!symscn || symsh.sh_entsize == 0 ||
        !(data = elf_getdata(symscn, NULL))) {
        *why = "has no symbol table (symtab or dynsym)";
        return false;
    }
    n = symsh.sh_size / symsh.sh_entsize;
    f->sized = calloc(n ? n : 1, sizeof(Sym));
    f->bare = calloc(n ? n : 1, sizeof(Sym));
    if (!f->sized || !f->bare) {
        *why = "out of memory";
        return false;
    }
    /* names first into a pool, then pointers into it (it may move) */
    for (int pass = 0; pass < 2; pass++) {
        size_t at = 0;

        for (size_t i = 0; i < n; i++) {
            GElf_Sym sym;
            const char *name;
            size_t len;
            Sym *s;

            if (!gelf_getsym(data, (int)i, &sym)) {
                continue;
            }
            name = elf_strptr(e, symsh.sh_link, sym.st_name);
            if (!wanted(&sym, name)) {
                continue;
            }
            len = strlen(name) + 1;
            if (pass == 0) {
                pool_len += len;
                continue;
            }
            memcpy(f->pool + at, name, len);
            s = sym.st_size ? &f->sized[f->n_sized++] :
                &f->bare[f->n_bare++];
            s->start = sym.st_value;
            s->size = sym.st_size;
            s->name = f->pool + at;
            s->shndx = sym.st_shndx;
            s->rank = rank_of(&sym);
            at += len;
        }
        if (pass == 0) {
            pool_cap = pool_len ? pool_len : 1;
            f->pool = malloc(pool_cap);
            if (!f->pool) {
                *why = "out of memory";
                return false;
            }
        }
    }
    if (f->n_sized + f->n_bare == 0) {
        *why = "has no symbols (only empty ones)";
        return false;
    }
    qsort(f->sized, f->n_sized, sizeof(Sym), cmp_sym);
    qsort(f->bare, f->n_bare, sizeof(Sym), cmp_sym);
    f->n_sized = dedup(f->sized, f->n_sized);
    f->n_bare = dedup(f->bare, f->n_bare);
    if (f->lo == UINT64_MAX) {
        f->lo = 0;
        f->hi = UINT64_MAX;
    }
    return true;
}

static void free_file(ElfFile *f)
{
    free(f->path);
    free(f->sized);
    free(f->bare);
    free(f->secs);
    free(f->pool);
}

void sym_free(Symbols *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        free_file(&s->f[i]);
    }
    free(s->f);
    free(s->names);
    free(s->memo);
    free(s);
}

Symbols *sym_load(const char *cmd, char *const *paths, size_t n)
{
    Symbols *s = calloc(1, sizeof(*s));
    uint32_t id = 0;

    if (!s || !(s->f = calloc(n ? n : 1, sizeof(ElfFile)))) {
        free(s);
        cli_msg("out of memory");
        return NULL;
    }
    if (elf_version(EV_CURRENT) == EV_NONE) {
        cli_msg("%s: --elf: libelf is out of date", cmd);
        sym_free(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        ElfFile *f = &s->f[s->n++];
        const char *why = NULL;
        int fd = open(paths[i], O_RDONLY);
        Elf *e;

        f->path = strdup(paths[i]);
        if (fd < 0) {
            cli_msg("%s: --elf %s: cannot open: %s", cmd, paths[i],
                    strerror(errno));
            sym_free(s);
            return NULL;
        }
        e = elf_begin(fd, ELF_C_READ, NULL);
        if (!e) {
            why = elf_errmsg(-1);
        } else {
            read_elf(f, e, &why);
            elf_end(e);
        }
        close(fd);
        if (why || !f->path) {
            cli_msg("%s: --elf %s: %s", cmd, paths[i],
                    why ? why : "out of memory");
            sym_free(s);
            return NULL;
        }
        for (size_t k = 0; k < f->n_sized; k++) {
            f->sized[k].id = id++;
        }
        for (size_t k = 0; k < f->n_bare; k++) {
            f->bare[k].id = id++;
        }
    }
    s->n_syms = id;
    s->names = calloc(id ? id : 1, sizeof(*s->names));
    s->memo_mask = 4095;
    s->memo = calloc(s->memo_mask + 1, sizeof(MemoSlot));
    if (!s->names || !s->memo) {
        cli_msg("out of memory");
        sym_free(s);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++) {
        for (size_t k = 0; k < s->f[i].n_sized; k++) {
            s->names[s->f[i].sized[k].id] = s->f[i].sized[k].name;
        }
        for (size_t k = 0; k < s->f[i].n_bare; k++) {
            s->names[s->f[i].bare[k].id] = s->f[i].bare[k].name;
        }
    }
    return s;
}

uint32_t sym_count(const Symbols *s)
{
    return s->n_syms;
}

const char *sym_name(const Symbols *s, uint32_t id)
{
    return id < s->n_syms ? s->names[id] : "?";
}

/* ---- Where each file was loaded ----------------------------------------- */

/* The last entry of @s (@n, by start) with start <= @a, or -1. */
static long last_at_or_before(const Sym *s, size_t n, uint64_t a)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s[mid].start <= a) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return (long)lo - 1;
}

/* The last path component of @p. */
static const char *base_name(const char *p)
{
    const char *b = strrchr(p, '/');

    return b ? b + 1 : p;
}

/*
 * The load bias of the file @path (a PIE or shared object whose segment
 * at file offset 0 has link address @first_vaddr) from the trace's
 * modules: the one whose path is @path, else the one whose file name is
 * @path's; the lowest such mapping. 1 with *@bias set, 0 if none
 * matches, -1 if the trace has no modules at all.
 */
static int sym_bind_module(const char *path, uint64_t first_vaddr,
                            ElTrace *t, uint64_t *bias)
{
    size_t n = el_trace_n_modules(t);
    const ElModule *best = NULL;
    bool best_exact = false;

    for (size_t i = 0; i < n; i++) {
        const ElModule *m = el_trace_module(t, i);
        bool exact;

        if (!m || !m->path) {
            continue;
        }
        exact = strcmp(m->path, path) == 0;
        if (!exact && strcmp(base_name(m->path), base_name(path)) != 0) {
            continue;
        }
        if (!best || (exact && !best_exact) ||
            (exact == best_exact && m->start - m->offset <
             best->start - best->offset)) {
            best = m;
            best_exact = exact;
        }
    }
    if (!best) {
        return n ? 0 : -1;
    }
    /* file offset 0 is at best->start - best->offset in the guest */
    *bias = best->start - best->offset - first_vaddr;
    return 1;
}

void sym_bind(Symbols *s, ElTrace *t)
{
    bool said = false;

    for (size_t i = 0; i < s->n; i++) {
        ElfFile *f = &s->f[i];

        f->bias = 0;
        if (!f->is_dyn) {
            continue;           /* ET_EXEC: at its link addresses */
        }
        switch (sym_bind_module(f->path, f->first_vaddr, t, &f->bias)) {
        case -1:
            if (!said) {
                cli_msg("the trace records no modules (file mappings): "
                        "assuming --elf %s is loaded at its link addresses",
                        f->path);
            }
            said = true;
            break;
        case 0:
            cli_msg("--elf %s: no module (file mapping) of the trace "
                    "matches it: assuming it is loaded at its link "
                    "addresses", f->path);
            break;
        }
    }
    memset(s->memo, 0, (s->memo_mask + 1) * sizeof(MemoSlot));
    s->memo_used = 0;
}

/* ---- Lookups ------------------------------------------------------------ */

/* The section of @f holding link address @a, or NULL. */
static const Section *section_of(const ElfFile *f, uint64_t a)
{
    size_t lo = 0, hi = f->n_secs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (f->secs[mid].start <= a) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0 || a >= f->secs[lo - 1].end) {
        return NULL;
    }
    return &f->secs[lo - 1];
}

static bool find_in(const ElfFile *f, uint64_t a, SymHit *hit)
{
    long j = last_at_or_before(f->sized, f->n_sized, a), k;
    const Sym *best = NULL;
    const Section *sec;

    /* the innermost sized symbol covering a (nesting is rare: look back a
     * little way) */
    for (long i = j, steps = 0; i >= 0 && steps < 64; i--, steps++) {
        const Sym *c = &f->sized[i];

        if (a - c->start < c->size) {
            best = c;
            break;
        }
    }
    if (best) {
        hit->name = best->name;
        hit->offset = a - best->start;
        hit->id = best->id;
        return true;
    }
    /* else a symbol of size 0 before it, in its section, with no sized
     * symbol starting between the two */
    k = last_at_or_before(f->bare, f->n_bare, a);
    sec = section_of(f, a);
    if (k < 0 || !sec) {
        return false;
    }
    best = &f->bare[k];
    /* several at one address: the best rank comes first */
    while (k > 0 && f->bare[k - 1].start == best->start) {
        best = &f->bare[--k];
    }
    if (best->shndx != sec->index || best->start < sec->start ||
        (j >= 0 && f->sized[j].start >= best->start)) {
        return false;
    }
    hit->name = best->name;
    hit->offset = a - best->start;
    hit->id = best->id;
    return true;
}

bool sym_find(const Symbols *s, uint64_t pc, SymHit *hit)
{
    for (size_t i = 0; i < s->n; i++) {
        const ElfFile *f = &s->f[i];
        uint64_t a = pc - f->bias;

        if (a >= f->lo && a < f->hi && find_in(f, a, hit)) {
            return true;
        }
    }
    return false;
}

static inline size_t memo_hash(const ElInsnInfo *in, size_t mask)
{
    return (size_t)((uintptr_t)in / sizeof(ElInsnInfo)) & mask;
}

static bool memo_grow(Symbols *s)
{
    size_t n = (s->memo_mask + 1) * 2;
    MemoSlot *m = calloc(n, sizeof(*m));

    if (!m) {
        return false;
    }
    for (size_t i = 0; i <= s->memo_mask; i++) {
        if (s->memo[i].key) {
            size_t j = memo_hash(s->memo[i].key, n - 1);

            while (m[j].key) {
                j = (j + 1) & (n - 1);
            }
            m[j] = s->memo[i];
        }
    }
    free(s->memo);
    s->memo = m;
    s->memo_mask = n - 1;
    return true;
}

bool sym_find_insn(Symbols *s, const ElInsnInfo *in, SymHit *hit)
{
    size_t j = memo_hash(in, s->memo_mask);
    bool found;

    for (;;) {
        const MemoSlot *m = &s->memo[j];

        if (m->key == in) {
            if (m->id == UINT32_MAX) {
                return false;
            }
            hit->id = m->id;
            hit->name = s->names[m->id];
            hit->offset = m->offset;
            return true;
        }
        if (!m->key) {
            break;
        }
        j = (j + 1) & s->memo_mask;
    }
    found = sym_find(s, in->pc, hit);
    if ((s->memo_used + 1) * 2 > s->memo_mask + 1) {
        if (!memo_grow(s)) {
            return found;       /* not remembered: still right */
        }
        j = memo_hash(in, s->memo_mask);
        while (s->memo[j].key) {
            j = (j + 1) & s->memo_mask;
        }
    }
    s->memo[j].key = in;
    s->memo[j].id = found ? hit->id : UINT32_MAX;
    s->memo[j].offset = found ? hit->offset : 0;
    s->memo_used++;
    return found;
}

size_t sym_annot_len(const SymHit *hit)
{
    uint64_t v = hit->offset;
    size_t digits = v ? (size_t)(64 - __builtin_clzll(v) + 3) / 4 : 1;

    return 2 + strlen(hit->name) + 3 + digits + 1;
}

size_t sym_annot(char *dst, const SymHit *hit)
{
    size_t n = 0, len = strlen(hit->name);

    dst[n++] = ' ';
    dst[n++] = '<';
    memcpy(dst + n, hit->name, len);
    n += len;
    memcpy(dst + n, "+0x", 3);
    n += 3;
    n += el_fmt_hex(dst + n, hit->offset, 1);
    dst[n++] = '>';
    return n;
}
