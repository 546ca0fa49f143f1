/* A bump allocator: every value of a parsed document lives in one arena and is freed at once. */
#ifndef CFG_ARENA_H
#define CFG_ARENA_H
#include <stddef.h>

typedef struct arena_chunk {
  struct arena_chunk *next;
  size_t size;
  size_t used;
  unsigned char data[];
} arena_chunk;

typedef struct {
  arena_chunk *head;
  size_t chunk_size;
  size_t total_allocated; /* bytes handed out */
  size_t chunks;
} arena;

void arena_init(arena *a, size_t chunk_size);
void *arena_alloc(arena *a, size_t size);
char *arena_strndup(arena *a, const char *s, size_t n);
void arena_free_all(arena *a);

#endif
