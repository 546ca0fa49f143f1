/* Recursive-descent parser. Each parse_* allocates its own nodes from the arena. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

#define MAX_DEPTH 64

typedef struct {
  const char *text;
  size_t len;
  size_t pos;
  int line;
  int column;
  int depth;
  int failed;
  arena *arena;
  cfg_error_info *err;
} parser;

static cfg_value *parse_value(parser *p);

/* The one error path: records the first error with its position; callers unwind by checking p->failed. */
static void cfg_error(parser *p, const char *fmt, ...) {
  if (p->failed) return;
  p->failed = 1;
  p->err->line = p->line;
  p->err->column = p->column;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
  va_end(ap);
}

static int peek(parser *p) { return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1; }

static int advance(parser *p) {
  int c = peek(p);
  if (c < 0) return c;
  p->pos++;
  if (c == '\n') {
    p->line++;
    p->column = 1;
  } else {
    p->column++;
  }
  return c;
}

/* Whitespace and comments (`# ...` and `// ...` to the end of the line). */
static void skip_space(parser *p) {
  for (;;) {
    int c = peek(p);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      advance(p);
    } else if (c == '#' || (c == '/' && p->pos + 1 < p->len && p->text[p->pos + 1] == '/')) {
      while (peek(p) >= 0 && peek(p) != '\n') advance(p);
    } else {
      return;
    }
  }
}

static int expect(parser *p, int want, const char *context) {
  skip_space(p);
  int c = peek(p);
  if (c != want) {
    if (c < 0) cfg_error(p, "expected '%c' %s, found end of input", want, context);
    else cfg_error(p, "expected '%c' %s, found '%c'", want, context, c);
    return 0;
  }
  advance(p);
  return 1;
}

static cfg_value *new_node(parser *p, cfg_type type) {
  cfg_value *v = arena_alloc(p->arena, sizeof *v);
  memset(v, 0, sizeof *v);
  v->type = type;
  return v;
}

static int hex_digit(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* "..." with \" \\ \n \t \uXXXX (ASCII only) escapes. */
static cfg_value *parse_string(parser *p) {
  if (!expect(p, '"', "to start a string")) return NULL;
  size_t cap = 16, len = 0;
  char *buf = arena_alloc(p->arena, cap);
  for (;;) {
    int c = advance(p);
    if (c < 0 || c == '\n') {
      cfg_error(p, "unterminated string");
      return NULL;
    }
    if (c == '"') break;
    if (c == '\\') {
      int e = advance(p);
      switch (e) {
        case '"': case '\\': case '/': c = e; break;
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'u': {
          int code = 0;
          for (int i = 0; i < 4; i++) {
            int d = hex_digit(advance(p));
            if (d < 0) {
              cfg_error(p, "bad \\u escape");
              return NULL;
            }
            code = code * 16 + d;
          }
          if (code > 0x7f) {
            cfg_error(p, "\\u%04x is not ASCII", code);
            return NULL;
          }
          c = code;
          break;
        }
        default:
          cfg_error(p, "unknown escape '\\%c'", e < 0 ? '?' : e);
          return NULL;
      }
    }
    if (len + 1 >= cap) {
      char *bigger = arena_alloc(p->arena, cap * 2);
      memcpy(bigger, buf, len);
      buf = bigger;
      cap *= 2;
    }
    buf[len++] = (char)c;
  }
  buf[len] = '\0';
  cfg_value *v = new_node(p, CFG_STRING);
  v->as.string.chars = buf;
  v->as.string.len = len;
  return v;
}

static cfg_value *parse_number(parser *p) {
  const char *start = p->text + p->pos;
  char *end;
  double d = strtod(start, &end);
  if (end == start) {
    cfg_error(p, "expected a value");
    return NULL;
  }
  while (p->text + p->pos < end) advance(p);
  cfg_value *v = new_node(p, CFG_NUMBER);
  v->as.number = d;
  return v;
}

static int match_word(parser *p, const char *word) {
  size_t n = strlen(word);
  if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0) return 0;
  if (p->pos + n < p->len && (isalnum((unsigned char)p->text[p->pos + n]) || p->text[p->pos + n] == '_')) return 0;
  for (size_t i = 0; i < n; i++) advance(p);
  return 1;
}

static cfg_value *parse_array(parser *p) {
  advance(p); /* '[' */
  size_t cap = 4, len = 0;
  cfg_value **items = arena_alloc(p->arena, cap * sizeof *items);
  for (;;) {
    skip_space(p);
    if (peek(p) == ']') break;
    cfg_value *item = parse_value(p);
    if (p->failed) return NULL;
    if (len == cap) {
      cfg_value **bigger = arena_alloc(p->arena, cap * 2 * sizeof *items);
      memcpy(bigger, items, len * sizeof *items);
      items = bigger;
      cap *= 2;
    }
    items[len++] = item;
    skip_space(p);
    if (peek(p) == ',') {
      advance(p);
      continue;
    }
    if (peek(p) != ']') {
      if (!expect(p, ']', "to close the array")) return NULL;
      break;
    }
  }
  advance(p); /* ']' */
  cfg_value *v = new_node(p, CFG_ARRAY);
  v->as.array.items = items;
  v->as.array.len = len;
  return v;
}

/* A key is a string or a bare word of letters, digits, '_' and '-'. */
static const char *parse_key(parser *p) {
  skip_space(p);
  if (peek(p) == '"') {
    cfg_value *s = parse_string(p);
    return s ? s->as.string.chars : NULL;
  }
  size_t start = p->pos;
  while (peek(p) >= 0 && (isalnum(peek(p)) || peek(p) == '_' || peek(p) == '-')) advance(p);
  if (p->pos == start) {
    cfg_error(p, "expected a key");
    return NULL;
  }
  return arena_strndup(p->arena, p->text + start, p->pos - start);
}

static cfg_value *parse_object(parser *p) {
  advance(p); /* '{' */
  size_t cap = 4, len = 0;
  cfg_member *members = arena_alloc(p->arena, cap * sizeof *members);
  for (;;) {
    skip_space(p);
    if (peek(p) == '}') break;
    const char *key = parse_key(p);
    if (p->failed) return NULL;
    skip_space(p);
    if (peek(p) == '=') advance(p);
    else if (!expect(p, ':', "after a key")) return NULL;
    cfg_value *value = parse_value(p);
    if (p->failed) return NULL;
    if (len == cap) {
      cfg_member *bigger = arena_alloc(p->arena, cap * 2 * sizeof *members);
      memcpy(bigger, members, len * sizeof *members);
      members = bigger;
      cap *= 2;
    }
    members[len].key = key;
    members[len].value = value;
    len++;
    skip_space(p);
    if (peek(p) == ',') {
      advance(p);
      continue;
    }
    if (peek(p) != '}') {
      if (!expect(p, '}', "to close the object")) return NULL;
      break;
    }
  }
  advance(p); /* '}' */
  cfg_value *v = new_node(p, CFG_OBJECT);
  v->as.object.members = members;
  v->as.object.len = len;
  return v;
}

static cfg_value *parse_value(parser *p) {
  skip_space(p);
  if (++p->depth > MAX_DEPTH) {
    cfg_error(p, "nested deeper than %d levels", MAX_DEPTH);
    return NULL;
  }
  cfg_value *v = NULL;
  int c = peek(p);
  if (c == '{') v = parse_object(p);
  else if (c == '[') v = parse_array(p);
  else if (c == '"') v = parse_string(p);
  else if (match_word(p, "true") || match_word(p, "false")) {
    v = new_node(p, CFG_BOOL);
    v->as.boolean = p->text[p->pos - 1] == 'e' && p->text[p->pos - 2] == 'u';
  } else if (match_word(p, "null")) v = NULL;
  else if (c < 0) cfg_error(p, "expected a value, found end of input");
  else v = parse_number(p);
  p->depth--;
  return v;
}

int cfg_parse(arena *a, const char *text, size_t len, cfg_value **out, cfg_error_info *err) {
  parser p = { text, len, 0, 1, 1, 0, 0, a, err };
  cfg_value *v = parse_value(&p);
  if (!p.failed) {
    skip_space(&p);
    if (peek(&p) >= 0) cfg_error(&p, "unexpected '%c' after the document", peek(&p));
  }
  if (p.failed) return -1;
  *out = v;
  return 0;
}
