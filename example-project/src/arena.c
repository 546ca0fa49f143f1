#include "arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void arena_init(arena *a, size_t chunk_size) {
  a->head = NULL;
  a->chunk_size = chunk_size;
  a->total_allocated = 0;
  a->chunks = 0;
}

/* Adds a chunk big enough for `size` bytes; exits on out-of-memory like the rest of the tool. */
static arena_chunk *arena_grow(arena *a, size_t size) {
  size_t want = size > a->chunk_size ? size : a->chunk_size;
  arena_chunk *c = malloc(sizeof *c + want);
  if (!c) {
    fprintf(stderr, "cfgtool: out of memory (%zu bytes)\n", want);
    exit(70);
  }
  c->next = a->head;
  c->size = want;
  c->used = 0;
  a->head = c;
  a->chunks++;
  return c;
}

void *arena_alloc(arena *a, size_t size) {
  size = (size + 15) & ~(size_t)15; /* keep every block 16-byte aligned */
  arena_chunk *c = a->head;
  if (!c || c->size - c->used < size) c = arena_grow(a, size);
  void *p = c->data + c->used;
  c->used += size;
  a->total_allocated += size;
  return p;
}

char *arena_strndup(arena *a, const char *s, size_t n) {
  char *p = arena_alloc(a, n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void arena_free_all(arena *a) {
  arena_chunk *c = a->head;
  while (c) {
    arena_chunk *next = c->next;
    free(c);
    c = next;
  }
  a->head = NULL;
  a->chunks = 0;
}
