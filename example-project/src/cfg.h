/* cfgtool's document model: JSON-like values with comments, bare keys and trailing commas. */
#ifndef CFG_H
#define CFG_H
#include <stddef.h>
#include "arena.h"

typedef enum { CFG_BOOL, CFG_NUMBER, CFG_STRING, CFG_ARRAY, CFG_OBJECT } cfg_type;

typedef struct cfg_value cfg_value;

typedef struct {
  const char *key;
  cfg_value *value;
} cfg_member;

/* A `null` in the input is stored as a NULL cfg_value pointer. */
struct cfg_value {
  cfg_type type;
  union {
    int boolean;
    double number;
    struct { char *chars; size_t len; } string;
    struct { cfg_value **items; size_t len; } array;
    struct { cfg_member *members; size_t len; } object;
  } as;
};

typedef struct {
  char message[160];
  int line;
  int column;
} cfg_error_info;

/* Parses `len` bytes of `text`; returns 0 and sets *out, or -1 and fills *err. */
int cfg_parse(arena *a, const char *text, size_t len, cfg_value **out, cfg_error_info *err);

/* Follows a dotted path ("server.ports.1"); returns 1 and sets *out when found. */
int cfg_lookup(const cfg_value *root, const char *path, const cfg_value **out);

void cfg_print(const cfg_value *v, int indent);

typedef struct {
  size_t values, strings, arrays, objects, max_depth;
} cfg_stats;

void cfg_count(const cfg_value *v, size_t depth, cfg_stats *s);

#endif
