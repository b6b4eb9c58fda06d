/* Allocation-failure injection for a whole test process: malloc, calloc and
 * realloc are replaced (forwarding to glibc's own) by versions that fail
 * once a budget is spent, so LMDB, libsodium and our code all see the
 * failure. A test that links this object gets the replacement; under
 * AddressSanitizer, which owns the allocator, nothing is replaced and
 * testutil_alloc_available() says so. */
#include "testutil.h"

#include <errno.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_FAULT_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_FAULT_OFF 1
#endif
#endif

static long alloc_budget = -1;

int testutil_alloc_available(void)
{
#ifdef ALLOC_FAULT_OFF
    return 0;
#else
    return 1;
#endif
}

void testutil_alloc_budget(long budget)
{
    alloc_budget = budget;
}

#ifndef ALLOC_FAULT_OFF
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t count, size_t size);
void *__libc_realloc(void *ptr, size_t size);

/* Whether one more allocation may succeed. */
static int take(void)
{
    long left = __atomic_load_n(&alloc_budget, __ATOMIC_RELAXED);
    if (left < 0)
        return 1;
    while (left > 0) {
        if (__atomic_compare_exchange_n(&alloc_budget, &left, left - 1, 0,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return 1;
    }
    errno = ENOMEM;
    return 0;
}

void *malloc(size_t size)
{
    return take() ? __libc_malloc(size) : NULL;
}

void *calloc(size_t count, size_t size)
{
    return take() ? __libc_calloc(count, size) : NULL;
}

void *realloc(void *ptr, size_t size)
{
    return take() ? __libc_realloc(ptr, size) : NULL;
}
#endif
