/* Prints a document back in a canonical form: sorted nothing, two-space indent, quoted keys. */
#include <stdio.h>

#include "cfg.h"

static void print_indent(int n) {
  for (int i = 0; i < n; i++) fputs("  ", stdout);
}

static void print_string(const char *s, size_t len) {
  putchar('"');
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c == '\n') fputs("\\n", stdout);
    else if (c == '\t') fputs("\\t", stdout);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void print_number(double d) {
  if (d == (long long)d && d > -1e15 && d < 1e15) printf("%lld", (long long)d);
  else printf("%.17g", d);
}

void cfg_print(const cfg_value *v, int indent) {
  if (!v) {
    fputs("null", stdout);
    return;
  }
  switch (v->type) {
    case CFG_BOOL: fputs(v->as.boolean ? "true" : "false", stdout); break;
    case CFG_NUMBER: print_number(v->as.number); break;
    case CFG_STRING: print_string(v->as.string.chars, v->as.string.len); break;
    case CFG_ARRAY:
      if (v->as.array.len == 0) {
        fputs("[]", stdout);
        break;
      }
      fputs("[\n", stdout);
      for (size_t i = 0; i < v->as.array.len; i++) {
        print_indent(indent + 1);
        cfg_print(v->as.array.items[i], indent + 1);
        fputs(i + 1 < v->as.array.len ? ",\n" : "\n", stdout);
      }
      print_indent(indent);
      putchar(']');
      break;
    case CFG_OBJECT:
      if (v->as.object.len == 0) {
        fputs("{}", stdout);
        break;
      }
      fputs("{\n", stdout);
      for (size_t i = 0; i < v->as.object.len; i++) {
        const cfg_member *m = &v->as.object.members[i];
        print_indent(indent + 1);
        print_string(m->key, __builtin_strlen(m->key));
        fputs(": ", stdout);
        cfg_print(m->value, indent + 1);
        fputs(i + 1 < v->as.object.len ? ",\n" : "\n", stdout);
      }
      print_indent(indent);
      putchar('}');
      break;
  }
}

void cfg_count(const cfg_value *v, size_t depth, cfg_stats *s) {
  s->values++;
  if (depth > s->max_depth) s->max_depth = depth;
  if (!v) return;
  if (v->type == CFG_STRING) s->strings++;
  if (v->type == CFG_ARRAY) {
    s->arrays++;
    for (size_t i = 0; i < v->as.array.len; i++) cfg_count(v->as.array.items[i], depth + 1, s);
  }
  if (v->type == CFG_OBJECT) {
    s->objects++;
    for (size_t i = 0; i < v->as.object.len; i++) cfg_count(v->as.object.members[i].value, depth + 1, s);
  }
}
