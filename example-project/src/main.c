/*
 * cfgtool: reads config files written in a relaxed JSON (comments, bare keys, `=` or `:`,
 * trailing commas) and prints, queries or checks them.
 *
 *   cfgtool parse FILE        print the document in canonical form
 *   cfgtool get FILE PATH     print the value at a dotted path ("server.ports.0")
 *   cfgtool stats FILE        count values and report arena use
 *
 * Exit codes: 0 ok, 1 syntax error, 2 usage, 3 path not found, 66 unreadable file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      char *bigger = realloc(buf, cap);
      if (!bigger) {
        free(buf);
        buf = NULL;
      }
      buf = bigger;
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

static int usage(void) {
  fputs("usage: cfgtool parse FILE | get FILE PATH | stats FILE\n", stderr);
  return 2;
}

/* Reads and parses FILE into *doc; prints the error and returns its exit code on failure. */
static int load(arena *a, const char *path, cfg_value **doc) {
  size_t len;
  char *text = read_file(path, &len);
  if (!text) {
    fprintf(stderr, "cfgtool: cannot read %s: %s\n", path, strerror(errno));
    return 66;
  }
  cfg_error_info err;
  int rc = cfg_parse(a, text, len, doc, &err);
  free(text);
  if (rc != 0) {
    fprintf(stderr, "%s:%d:%d: error: %s\n", path, err.line, err.column, err.message);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return usage();
  const char *cmd = argv[1];
  arena a;
  arena_init(&a, 1024);
  cfg_value *doc = NULL;
  int rc = load(&a, argv[2], &doc);
  if (rc == 0) {
    if (strcmp(cmd, "parse") == 0 && argc == 3) {
      cfg_print(doc, 0);
      putchar('\n');
    } else if (strcmp(cmd, "get") == 0 && argc == 4) {
      const cfg_value *v;
      if (cfg_lookup(doc, argv[3], &v)) {
        cfg_print(v, 0);
        putchar('\n');
      } else {
        fprintf(stderr, "cfgtool: %s: no value at \"%s\"\n", argv[2], argv[3]);
        rc = 3;
      }
    } else if (strcmp(cmd, "stats") == 0 && argc == 3) {
      cfg_stats s = {0};
      cfg_count(doc, 0, &s);
      printf("values %zu\nstrings %zu\narrays %zu\nobjects %zu\ndepth %zu\narena_bytes %zu\narena_chunks %zu\n",
             s.values, s.strings, s.arrays, s.objects, s.max_depth, a.total_allocated, a.chunks);
    } else {
      rc = usage();
    }
  }
  arena_free_all(&a);
  return rc;
}
