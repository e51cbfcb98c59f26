/* ---- socklab C runtime: Python-like values for the exported lanes ----
 *
 * Every value is a `V`: a pointer to a tagged struct (None, bool, int, float,
 * str, bytes, tuple, list, socket, exception, ICMP message). Values are never
 * freed: an exported script runs for seconds, and leaking keeps the code
 * simple. Errors are Python exceptions: sl_raise() longjmps to the innermost
 * `try` of the current thread (a lane), and a lane with no handler stops,
 * like a lane in the playground.
 *
 * Sockets behave as Python's do: blocking by default; settimeout(t) makes the
 * descriptor non-blocking and waits with poll() before each call (so a send
 * may be short); setblocking(False) is a timeout of 0 (EAGAIN at once). A
 * timeout that expires raises OSError EAGAIN "timed out", as in the playground.
 */
#define _GNU_SOURCE
/* Each program uses only part of this runtime. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef enum { T_NONE, T_BOOL, T_INT, T_FLOAT, T_STR, T_BYTES, T_TUPLE, T_LIST, T_SOCK, T_EXC, T_ICMP } vkind;

typedef struct value *V;
struct value {
    vkind kind;
    long long i;          /* bool, int; errno of an exception (0: none) */
    double f;             /* float; socket timeout (-1: blocking) */
    size_t n, cap;        /* length of str/bytes/tuple/list */
    unsigned char *b;     /* str/bytes data (NUL-terminated for convenience) */
    V *items;             /* tuple/list items; ICMP fields */
    int fd, family, type, proto;
    const char *cls;      /* exception class name */
};

static struct value sl_none_value = {.kind = T_NONE};
#define SL_NONE (&sl_none_value)

static V sl_new(vkind kind) {
    V v = calloc(1, sizeof *v);
    if (!v) { perror("calloc"); exit(2); }
    v->kind = kind;
    return v;
}

static V sl_int(long long i) { V v = sl_new(T_INT); v->i = i; return v; }
static V sl_bool(int b) { V v = sl_new(T_BOOL); v->i = b != 0; return v; }
static V sl_float(double f) { V v = sl_new(T_FLOAT); v->f = f; return v; }

static V sl_buf(vkind kind, const void *data, size_t n) {
    V v = sl_new(kind);
    v->b = malloc(n + 1);
    if (!v->b) { perror("malloc"); exit(2); }
    if (n) memcpy(v->b, data, n);
    v->b[n] = 0;
    v->n = n;
    return v;
}
static V sl_str(const char *s, size_t n) { return sl_buf(T_STR, s, n); }
static V sl_cstr(const char *s) { return sl_buf(T_STR, s, strlen(s)); }
static V sl_bytes(const void *s, size_t n) { return sl_buf(T_BYTES, s, n); }

static V sl_seq(vkind kind, size_t n, V *items) {
    V v = sl_new(kind);
    v->cap = n < 4 ? 4 : n;
    v->items = calloc(v->cap, sizeof(V));
    if (n) memcpy(v->items, items, n * sizeof(V));
    v->n = n;
    return v;
}
#define SL_TUPLE(...) sl_seq(T_TUPLE, sizeof((V[]){__VA_ARGS__}) / sizeof(V), (V[]){__VA_ARGS__})
#define SL_LIST(...) sl_seq(T_LIST, sizeof((V[]){__VA_ARGS__}) / sizeof(V), (V[]){__VA_ARGS__})
#define SL_EMPTY_LIST() sl_seq(T_LIST, 0, NULL)

static void sl_list_push(V list, V item) {
    if (list->n == list->cap) {
        list->cap *= 2;
        list->items = realloc(list->items, list->cap * sizeof(V));
    }
    list->items[list->n++] = item;
}

/* ---- exceptions ---- */

typedef struct sl_handler {
    jmp_buf jump;
    V exc;
    struct sl_handler *outer;
} sl_handler;

static __thread sl_handler *sl_top;
static __thread const char *sl_lane;

static V sl_exc(const char *cls, int err, const char *message) {
    V e = sl_new(T_EXC);
    e->cls = cls;
    e->i = err;
    e->b = (unsigned char *)strdup(message);
    e->n = strlen(message);
    return e;
}

static void sl_raise(V exc) __attribute__((noreturn));
static void sl_raise(V exc) {
    sl_handler *h = sl_top;
    if (!h) {
        fprintf(stderr, "[%s] stopped: uncaught %s: %s\n", sl_lane ? sl_lane : "?", exc->cls, (char *)exc->b);
        exit(1);
    }
    sl_top = h->outer;
    h->exc = exc;
    longjmp(h->jump, 1);
}

static void sl_error(const char *cls, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void sl_error(const char *cls, const char *fmt, ...) {
    char text[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    sl_raise(sl_exc(cls, 0, text));
}

/* The OSError subclass Python raises for an errno. */
static const char *sl_os_class(int err) {
    switch (err) {
    case EAGAIN: case EALREADY: case EINPROGRESS: return "BlockingIOError";
    case ETIMEDOUT: return "TimeoutError";
    case EINTR: return "InterruptedError";
    case ENOENT: return "FileNotFoundError";
    case EEXIST: return "FileExistsError";
    case EPERM: case EACCES: return "PermissionError";
    case ECONNREFUSED: return "ConnectionRefusedError";
    case ECONNRESET: return "ConnectionResetError";
    case ECONNABORTED: return "ConnectionAbortedError";
    case EPIPE: case ESHUTDOWN: return "BrokenPipeError";
    default: return "OSError";
    }
}

static void sl_os_error(int err) __attribute__((noreturn));
static void sl_os_error(int err) { sl_raise(sl_exc(sl_os_class(err), err, strerror(err))); }

static void sl_timed_out(void) __attribute__((noreturn));
static void sl_timed_out(void) { sl_raise(sl_exc("BlockingIOError", EAGAIN, "timed out")); }

/* sl_exc_parent() is generated after this runtime, from the playground's exception classes. */
static const char *sl_exc_parent(const char *cls);

static int sl_exc_matches(V exc, const char *handler) {
    for (const char *cls = exc->cls; cls; cls = sl_exc_parent(cls))
        if (strcmp(cls, handler) == 0) return 1;
    return 0;
}

/* ---- basic operations ---- */

static const char *sl_type(V v) {
    static const char *names[] = {"NoneType", "bool", "int", "float", "str", "bytes", "tuple", "list", "socket", "OSError", "ICMP"};
    return names[v->kind];
}

static int sl_truthy(V v) {
    switch (v->kind) {
    case T_NONE: return 0;
    case T_BOOL: case T_INT: return v->i != 0;
    case T_FLOAT: return v->f != 0.0;
    case T_STR: case T_BYTES: case T_TUPLE: case T_LIST: return v->n != 0;
    default: return 1;
    }
}

static long long sl_as_int(V v, const char *what) {
    if (v->kind == T_INT || v->kind == T_BOOL) return v->i;
    sl_error("TypeError", "%s must be an integer, not %s", what, sl_type(v));
}

static double sl_as_number(V v, const char *what) {
    if (v->kind == T_FLOAT) return v->f;
    return (double)sl_as_int(v, what);
}

static double sl_floor(double x) {
    double t = (double)(long long)x;
    return t > x ? t - 1 : t;
}

/* A growable text buffer for str() and repr(). */
typedef struct { char *data; size_t n, cap; } sl_text;
static void sl_put(sl_text *t, const char *s, size_t n) {
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->data = realloc(t->data, t->cap);
    }
    memcpy(t->data + t->n, s, n);
    t->n += n;
    t->data[t->n] = 0;
}
static void sl_puts(sl_text *t, const char *s) { sl_put(t, s, strlen(s)); }

static void sl_float_text(sl_text *t, double f) {
    char buf[64];
    if (isnan(f)) { sl_puts(t, "nan"); return; }
    if (isinf(f)) { sl_puts(t, f > 0 ? "inf" : "-inf"); return; }
    /* Python's repr: the shortest text that reads back as the same double. */
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buf, sizeof buf, "%.*g", precision, f);
        if (strtod(buf, NULL) == f) break;
    }
    if (!strpbrk(buf, ".e")) strcat(buf, ".0");
    sl_puts(t, buf);
}

static void sl_quoted(sl_text *t, const unsigned char *s, size_t n, int is_bytes) {
    int has_single = memchr(s, '\'', n) != NULL, has_double = memchr(s, '"', n) != NULL;
    char quote = has_single && !has_double ? '"' : '\'';
    char buf[8];
    if (is_bytes) sl_puts(t, "b");
    sl_put(t, &quote, 1);
    for (size_t k = 0; k < n; k++) {
        unsigned char c = s[k];
        if (c == (unsigned char)quote || c == '\\') { buf[0] = '\\'; buf[1] = (char)c; sl_put(t, buf, 2); }
        else if (c == '\n') sl_puts(t, "\\n");
        else if (c == '\r') sl_puts(t, "\\r");
        else if (c == '\t') sl_puts(t, "\\t");
        else if (c < 0x20 || c == 0x7f || (is_bytes && c >= 0x80)) { snprintf(buf, sizeof buf, "\\x%02x", c); sl_puts(t, buf); }
        else sl_put(t, (const char *)&c, 1);
    }
    sl_put(t, &quote, 1);
}

static void sl_text_of(sl_text *t, V v, int repr);

static void sl_addr_text(sl_text *t, V v) { sl_text_of(t, v, 1); }

static void sl_text_of(sl_text *t, V v, int repr) {
    char buf[128];
    switch (v->kind) {
    case T_NONE: sl_puts(t, "None"); break;
    case T_BOOL: sl_puts(t, v->i ? "True" : "False"); break;
    case T_INT: snprintf(buf, sizeof buf, "%lld", v->i); sl_puts(t, buf); break;
    case T_FLOAT: sl_float_text(t, v->f); break;
    case T_STR: if (repr) sl_quoted(t, v->b, v->n, 0); else sl_put(t, (char *)v->b, v->n); break;
    case T_BYTES: sl_quoted(t, v->b, v->n, 1); break;
    case T_TUPLE: case T_LIST:
        sl_puts(t, v->kind == T_TUPLE ? "(" : "[");
        for (size_t k = 0; k < v->n; k++) {
            if (k) sl_puts(t, ", ");
            sl_addr_text(t, v->items[k]);
        }
        if (v->kind == T_TUPLE && v->n == 1) sl_puts(t, ",");
        sl_puts(t, v->kind == T_TUPLE ? ")" : "]");
        break;
    case T_SOCK:
        snprintf(buf, sizeof buf, "<socket fd=%d, family=%d, type=%d, proto=%d>", v->fd, v->family, v->type, v->proto);
        sl_puts(t, buf);
        break;
    case T_EXC:
        if (v->i) { snprintf(buf, sizeof buf, "[Errno %lld] ", v->i); sl_puts(t, buf); }
        sl_put(t, (char *)v->b, v->n);
        break;
    case T_ICMP:
        sl_puts(t, "ICMP(type=");
        for (int k = 0; k < 6; k++) {
            static const char *names[] = {"", ", code=", ", ident=", ", seq=", ", ttl=", ", payload="};
            if (k) sl_puts(t, names[k]);
            sl_text_of(t, v->items[k], 1);
        }
        sl_puts(t, ")");
        break;
    }
}

static V sl_str_of(V v) { sl_text t = {0}; sl_text_of(&t, v, 0); return sl_str(t.data ? t.data : "", t.n); }
static V sl_repr(V v) { sl_text t = {0}; sl_text_of(&t, v, 1); return sl_str(t.data ? t.data : "", t.n); }

/* print(): whole lines, prefixed with "[lane] ". */
static pthread_mutex_t sl_output_lock = PTHREAD_MUTEX_INITIALIZER;
static void sl_print(size_t n, V *args) {
    sl_text t = {0};
    sl_puts(&t, "");
    for (size_t k = 0; k < n; k++) {
        if (k) sl_puts(&t, " ");
        sl_text_of(&t, args[k], 0);
    }
    pthread_mutex_lock(&sl_output_lock);
    char *line = t.data;
    for (;;) {
        char *end = strchr(line, '\n');
        if (end) *end = 0;
        printf("[%s] %s\n", sl_lane, line);
        if (!end) break;
        line = end + 1;
    }
    fflush(stdout);
    pthread_mutex_unlock(&sl_output_lock);
}
#define SL_PRINT(...) sl_print(sizeof((V[]){__VA_ARGS__}) / sizeof(V), (V[]){__VA_ARGS__})

static size_t sl_utf8_len(V s) {
    size_t count = 0;
    for (size_t k = 0; k < s->n; k++) count += (s->b[k] & 0xC0) != 0x80;
    return count;
}

static V sl_len(V v) {
    switch (v->kind) {
    case T_STR: return sl_int((long long)sl_utf8_len(v));
    case T_BYTES: case T_TUPLE: case T_LIST: return sl_int((long long)v->n);
    default: sl_error("TypeError", "object of type '%s' has no len()", sl_type(v));
    }
}

static int sl_equal(V a, V b) {
    if ((a->kind == T_INT || a->kind == T_BOOL) && (b->kind == T_INT || b->kind == T_BOOL)) return a->i == b->i;
    if ((a->kind == T_FLOAT || b->kind == T_FLOAT) && (a->kind == T_INT || a->kind == T_FLOAT || a->kind == T_BOOL)
        && (b->kind == T_INT || b->kind == T_FLOAT || b->kind == T_BOOL))
        return sl_as_number(a, "") == sl_as_number(b, "");
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case T_NONE: return 1;
    case T_STR: case T_BYTES: return a->n == b->n && memcmp(a->b, b->b, a->n) == 0;
    case T_TUPLE: case T_LIST:
        if (a->n != b->n) return 0;
        for (size_t k = 0; k < a->n; k++)
            if (!sl_equal(a->items[k], b->items[k])) return 0;
        return 1;
    default: return a == b;
    }
}

static int sl_order(V a, V b) {
    if ((a->kind == T_INT || a->kind == T_BOOL || a->kind == T_FLOAT) && (b->kind == T_INT || b->kind == T_BOOL || b->kind == T_FLOAT)) {
        if (a->kind != T_FLOAT && b->kind != T_FLOAT) return (a->i > b->i) - (a->i < b->i);
        double x = sl_as_number(a, ""), y = sl_as_number(b, "");
        return (x > y) - (x < y);
    }
    if (a->kind == b->kind && (a->kind == T_STR || a->kind == T_BYTES)) {
        size_t n = a->n < b->n ? a->n : b->n;
        int c = memcmp(a->b, b->b, n);
        if (c) return c < 0 ? -1 : 1;
        return (a->n > b->n) - (a->n < b->n);
    }
    sl_error("TypeError", "'<' not supported between instances of '%s' and '%s'", sl_type(a), sl_type(b));
}

static int sl_contains(V container, V item) {
    switch (container->kind) {
    case T_STR: case T_BYTES:
        if (item->kind != container->kind) sl_error("TypeError", "'in <%s>' requires %s as left operand", sl_type(container), sl_type(container));
        if (item->n == 0) return 1;
        return memmem(container->b, container->n, item->b, item->n) != NULL;
    case T_TUPLE: case T_LIST:
        for (size_t k = 0; k < container->n; k++)
            if (sl_equal(container->items[k], item)) return 1;
        return 0;
    default: sl_error("TypeError", "argument of type '%s' is not iterable", sl_type(container));
    }
}

enum { SL_EQ, SL_NE, SL_LT, SL_LE, SL_GT, SL_GE, SL_IN, SL_NOT_IN, SL_IS, SL_IS_NOT };
static V sl_compare(V a, int op, V b) {
    switch (op) {
    case SL_EQ: return sl_bool(sl_equal(a, b));
    case SL_NE: return sl_bool(!sl_equal(a, b));
    case SL_LT: return sl_bool(sl_order(a, b) < 0);
    case SL_LE: return sl_bool(sl_order(a, b) <= 0);
    case SL_GT: return sl_bool(sl_order(a, b) > 0);
    case SL_GE: return sl_bool(sl_order(a, b) >= 0);
    case SL_IN: return sl_bool(sl_contains(b, a));
    case SL_NOT_IN: return sl_bool(!sl_contains(b, a));
    case SL_IS: return sl_bool(a == b || (a->kind == T_NONE && b->kind == T_NONE) || (a->kind == T_BOOL && b->kind == T_BOOL && a->i == b->i));
    default: return sl_bool(!(a == b || (a->kind == T_NONE && b->kind == T_NONE) || (a->kind == T_BOOL && b->kind == T_BOOL && a->i == b->i)));
    }
}

static long long sl_floor_div(long long a, long long b) {
    if (b == 0) sl_error("ZeroDivisionError", "integer division or modulo by zero");
    long long q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

static V sl_concat(V a, V b) {
    if (a->kind == T_TUPLE || a->kind == T_LIST) {
        V out = sl_seq(a->kind, a->n, a->items);
        for (size_t k = 0; k < b->n; k++) sl_list_push(out, b->items[k]);
        return out;
    }
    V out = sl_buf(a->kind, a->b, a->n + b->n);
    memcpy(out->b + a->n, b->b, b->n);
    return out;
}

static V sl_repeat(V s, long long times) {
    if (times < 0) times = 0;
    V out = sl_buf(s->kind, "", 0);
    free(out->b);
    out->n = s->n * (size_t)times;
    out->b = malloc(out->n + 1);
    for (long long k = 0; k < times; k++) memcpy(out->b + (size_t)k * s->n, s->b, s->n);
    out->b[out->n] = 0;
    return out;
}

enum { SL_ADD, SL_SUB, SL_MUL, SL_DIV, SL_FLOORDIV, SL_MOD, SL_POW, SL_AND, SL_OR, SL_XOR, SL_SHL, SL_SHR };
static V sl_binary(V a, int op, V b) {
    int ints = (a->kind == T_INT || a->kind == T_BOOL) && (b->kind == T_INT || b->kind == T_BOOL);
    int numbers = (a->kind == T_INT || a->kind == T_BOOL || a->kind == T_FLOAT) && (b->kind == T_INT || b->kind == T_BOOL || b->kind == T_FLOAT);
    if (op == SL_ADD && a->kind == b->kind && (a->kind == T_STR || a->kind == T_BYTES || a->kind == T_TUPLE || a->kind == T_LIST))
        return sl_concat(a, b);
    if (op == SL_MUL && (a->kind == T_STR || a->kind == T_BYTES) && (b->kind == T_INT || b->kind == T_BOOL)) return sl_repeat(a, b->i);
    if (op == SL_MUL && (b->kind == T_STR || b->kind == T_BYTES) && (a->kind == T_INT || a->kind == T_BOOL)) return sl_repeat(b, a->i);
    if (ints) {
        long long x = a->i, y = b->i;
        switch (op) {
        case SL_ADD: return sl_int(x + y);
        case SL_SUB: return sl_int(x - y);
        case SL_MUL: return sl_int(x * y);
        case SL_DIV: if (!y) sl_error("ZeroDivisionError", "division by zero"); return sl_float((double)x / (double)y);
        case SL_FLOORDIV: return sl_int(sl_floor_div(x, y));
        case SL_MOD: return sl_int(x - sl_floor_div(x, y) * y);
        case SL_POW: { long long r = 1; for (long long k = 0; k < y; k++) r *= x; return sl_int(r); }
        case SL_AND: return sl_int(x & y);
        case SL_OR: return sl_int(x | y);
        case SL_XOR: return sl_int(x ^ y);
        case SL_SHL: return sl_int(x << y);
        case SL_SHR: return sl_int(x >> y);
        }
    }
    if (numbers && op <= SL_POW) {
        double x = sl_as_number(a, ""), y = sl_as_number(b, "");
        switch (op) {
        case SL_ADD: return sl_float(x + y);
        case SL_SUB: return sl_float(x - y);
        case SL_MUL: return sl_float(x * y);
        case SL_DIV: if (y == 0) sl_error("ZeroDivisionError", "float division by zero"); return sl_float(x / y);
        case SL_FLOORDIV: return sl_float(sl_floor(x / y));
        case SL_MOD: return sl_float(x - sl_floor(x / y) * y);
        default: sl_error("TypeError", "** on floats is not supported in the C export");
        }
    }
    sl_error("TypeError", "unsupported operand types for an operator: '%s' and '%s'", sl_type(a), sl_type(b));
}

static V sl_neg(V v) {
    if (v->kind == T_FLOAT) return sl_float(-v->f);
    return sl_int(-sl_as_int(v, "operand of unary -"));
}

static V sl_not(V v) { return sl_bool(!sl_truthy(v)); }

static long long sl_index_of(V seq, V index) {
    long long i = sl_as_int(index, "index"), n = (long long)seq->n;
    if (seq->kind == T_STR)
        for (size_t k = 0; k < seq->n; k++)
            if (seq->b[k] >= 0x80) sl_error("TypeError", "indexing a non-ASCII str is not supported in the C export");
    if (i < 0) i += n;
    if (i < 0 || i >= n) sl_error("IndexError", "%s index out of range", sl_type(seq));
    return i;
}

static V sl_getitem(V seq, V index) {
    long long i;
    switch (seq->kind) {
    case T_BYTES: i = sl_index_of(seq, index); return sl_int(seq->b[i]);
    case T_STR: i = sl_index_of(seq, index); return sl_str((char *)seq->b + i, 1);
    case T_TUPLE: case T_LIST: i = sl_index_of(seq, index); return seq->items[i];
    default: sl_error("TypeError", "'%s' object is not subscriptable", sl_type(seq));
    }
}

static void sl_setitem(V seq, V index, V value) {
    if (seq->kind != T_LIST) sl_error("TypeError", "'%s' object does not support item assignment", sl_type(seq));
    seq->items[sl_index_of(seq, index)] = value;
}

/* x[lower:upper] with Python's clamping; NULL means the bound was left out. */
static V sl_slice(V seq, V lower, V upper) {
    long long n = (long long)seq->n;
    long long lo = lower && lower->kind != T_NONE ? sl_as_int(lower, "slice index") : 0;
    long long hi = upper && upper->kind != T_NONE ? sl_as_int(upper, "slice index") : n;
    if (lo < 0) lo += n;
    if (hi < 0) hi += n;
    if (lo < 0) lo = 0;
    if (hi > n) hi = n;
    if (hi < lo) hi = lo;
    switch (seq->kind) {
    case T_BYTES: return sl_bytes(seq->b + lo, (size_t)(hi - lo));
    case T_STR: return sl_str((char *)seq->b + lo, (size_t)(hi - lo));
    case T_TUPLE: case T_LIST: return sl_seq(seq->kind, (size_t)(hi - lo), seq->items + lo);
    default: sl_error("TypeError", "'%s' object is not subscriptable", sl_type(seq));
    }
}

/* `a, b = value`: the value's items, checked for count. */
static V sl_unpack(V v, size_t n) {
    if (v->kind != T_TUPLE && v->kind != T_LIST) sl_error("TypeError", "cannot unpack non-iterable %s object", sl_type(v));
    if (v->n != n) sl_error("ValueError", "expected %zu values to unpack, got %zu", n, v->n);
    return v;
}

/* What `for x in v` walks over: a snapshot. */
static V sl_iter(V v) {
    if (v->kind == T_TUPLE || v->kind == T_LIST) return sl_seq(T_TUPLE, v->n, v->items);
    if (v->kind == T_BYTES) {
        V out = sl_seq(T_TUPLE, 0, NULL);
        for (size_t k = 0; k < v->n; k++) sl_list_push(out, sl_int(v->b[k]));
        return out;
    }
    if (v->kind == T_STR) {
        V out = sl_seq(T_TUPLE, 0, NULL);
        for (size_t k = 0; k < v->n; k++) sl_list_push(out, sl_str((char *)v->b + k, 1));
        return out;
    }
    sl_error("TypeError", "'%s' object is not iterable", sl_type(v));
}

/* ---- builtins ---- */

static V sl_int_of(V v, V base) {
    if (!base && (v->kind == T_INT || v->kind == T_BOOL)) return sl_int(v->i);
    if (!base && v->kind == T_FLOAT) return sl_int((long long)v->f);
    if (v->kind != T_STR && v->kind != T_BYTES) sl_error("TypeError", "int() argument must be a string, a bytes-like object or a real number, not '%s'", sl_type(v));
    int b = base ? (int)sl_as_int(base, "base") : 10;
    char *end;
    const char *text = (const char *)v->b;
    while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n') text++;
    errno = 0;
    long long i = strtoll(text, &end, b);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
    if (end == text || *end || errno) {
        V r = sl_repr(v);
        sl_error("ValueError", "invalid literal for int() with base %d: %s", b, (char *)r->b);
    }
    return sl_int(i);
}

static V sl_hex(V v) {
    char buf[32];
    long long i = sl_as_int(v, "hex() argument");
    if (i < 0) snprintf(buf, sizeof buf, "-0x%llx", -i); else snprintf(buf, sizeof buf, "0x%llx", i);
    return sl_cstr(buf);
}

static V sl_time(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return sl_float((double)tv.tv_sec + (double)tv.tv_usec / 1e6);
}

static V sl_sleep(V seconds) {
    double s = sl_as_number(seconds, "sleep length");
    struct timespec ts = {(time_t)s, (long)((s - sl_floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
    return SL_NONE;
}

static void sl_assert(V test, V message, const char *source) {
    if (!sl_truthy(test)) sl_raise(sl_exc("AssertionError", 0, message ? (char *)sl_str_of(message)->b : source));
}

/* ---- text and bytes methods ---- */

static V sl_need_text(V v, const char *method) {
    if (v->kind != T_STR && v->kind != T_BYTES) sl_error("AttributeError", "'%s' object has no attribute '%s'", sl_type(v), method);
    return v;
}

static V sl_m_encode(V s) { if (s->kind != T_STR) sl_need_text(SL_NONE, "encode"); return sl_bytes(s->b, s->n); }
static V sl_m_decode(V b) { if (b->kind != T_BYTES) sl_need_text(SL_NONE, "decode"); return sl_str((char *)b->b, b->n); }

static V sl_m_case(V s, int upper) {
    sl_need_text(s, upper ? "upper" : "lower");
    V out = sl_buf(s->kind, s->b, s->n);
    for (size_t k = 0; k < out->n; k++)
        if (out->b[k] < 0x80) out->b[k] = (unsigned char)(upper ? (out->b[k] >= 'a' && out->b[k] <= 'z' ? out->b[k] - 32 : out->b[k])
                                                               : (out->b[k] >= 'A' && out->b[k] <= 'Z' ? out->b[k] + 32 : out->b[k]));
    return out;
}
static V sl_m_upper(V s) { return sl_m_case(s, 1); }
static V sl_m_lower(V s) { return sl_m_case(s, 0); }

static long long sl_find_at(V s, V sub) {
    sl_need_text(s, "find");
    if (sub->kind != s->kind) sl_error("TypeError", "argument should be %s, not %s", sl_type(s), sl_type(sub));
    if (sub->n == 0) return 0;
    unsigned char *at = memmem(s->b, s->n, sub->b, sub->n);
    return at ? (long long)(at - s->b) : -1;
}
static V sl_m_find(V s, V sub) { return sl_int(sl_find_at(s, sub)); }

static V sl_m_partition(V s, V sep) {
    long long at = sl_find_at(s, sep);
    V empty = sl_buf(s->kind, "", 0);
    if (at < 0) return SL_TUPLE(s, empty, empty);
    return SL_TUPLE(sl_buf(s->kind, s->b, (size_t)at), sep, sl_buf(s->kind, s->b + at + sep->n, s->n - (size_t)at - sep->n));
}

static int sl_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static V sl_m_split(V s, V sep) {
    sl_need_text(s, "split");
    V out = SL_EMPTY_LIST();
    if (!sep || sep->kind == T_NONE) {
        size_t k = 0;
        while (k < s->n) {
            while (k < s->n && sl_space(s->b[k])) k++;
            size_t start = k;
            while (k < s->n && !sl_space(s->b[k])) k++;
            if (k > start) sl_list_push(out, sl_buf(s->kind, s->b + start, k - start));
        }
        return out;
    }
    if (sep->n == 0) sl_error("ValueError", "empty separator");
    size_t start = 0;
    for (;;) {
        unsigned char *at = memmem(s->b + start, s->n - start, sep->b, sep->n);
        if (!at) break;
        sl_list_push(out, sl_buf(s->kind, s->b + start, (size_t)(at - s->b) - start));
        start = (size_t)(at - s->b) + sep->n;
    }
    sl_list_push(out, sl_buf(s->kind, s->b + start, s->n - start));
    return out;
}

static V sl_m_strip(V s) {
    sl_need_text(s, "strip");
    size_t lo = 0, hi = s->n;
    while (lo < hi && sl_space(s->b[lo])) lo++;
    while (hi > lo && sl_space(s->b[hi - 1])) hi--;
    return sl_buf(s->kind, s->b + lo, hi - lo);
}

static V sl_m_startswith(V s, V prefix) {
    sl_need_text(s, "startswith");
    return sl_bool(prefix->n <= s->n && memcmp(s->b, prefix->b, prefix->n) == 0);
}

static V sl_m_endswith(V s, V suffix) {
    sl_need_text(s, "endswith");
    return sl_bool(suffix->n <= s->n && memcmp(s->b + s->n - suffix->n, suffix->b, suffix->n) == 0);
}

static V sl_m_replace(V s, V old, V new) {
    V parts = sl_m_split(s, old);
    V out = parts->items[0];
    for (size_t k = 1; k < parts->n; k++) out = sl_concat(sl_concat(out, new), parts->items[k]);
    return out;
}

/* ---- list methods ---- */

static V sl_need_list(V v, const char *method) {
    if (v->kind != T_LIST) sl_error("AttributeError", "'%s' object has no attribute '%s'", sl_type(v), method);
    return v;
}
static V sl_m_append(V list, V item) { sl_list_push(sl_need_list(list, "append"), item); return SL_NONE; }
static V sl_m_remove(V list, V item) {
    sl_need_list(list, "remove");
    for (size_t k = 0; k < list->n; k++)
        if (sl_equal(list->items[k], item)) {
            memmove(list->items + k, list->items + k + 1, (list->n - k - 1) * sizeof(V));
            list->n--;
            return SL_NONE;
        }
    sl_error("ValueError", "list.remove(x): x not in list");
}
static V sl_m_pop(V list) {
    sl_need_list(list, "pop");
    if (!list->n) sl_error("IndexError", "pop from empty list");
    return list->items[--list->n];
}

/* ---- sockets ---- */

static V sl_need_sock(V v, const char *method) {
    if (v->kind != T_SOCK) sl_error("AttributeError", "'%s' object has no attribute '%s'", sl_type(v), method);
    if (v->fd < 0) sl_os_error(EBADF);
    return v;
}

static V sl_socket(V family, V type, V proto) {
    int f = family ? (int)sl_as_int(family, "family") : AF_INET;
    int t = type ? (int)sl_as_int(type, "type") : SOCK_STREAM;
    int p = proto ? (int)sl_as_int(proto, "proto") : 0;
    int fd = socket(f, t | SOCK_CLOEXEC, p);
    if (fd < 0) sl_os_error(errno);
    V s = sl_new(T_SOCK);
    s->fd = fd;
    s->family = f;
    s->type = t;
    s->proto = p;
    s->f = -1;
    return s;
}

/* Python's timeout modes: -1 blocking, 0 non-blocking, > 0 poll first. */
static void sl_set_timeout(V s, double timeout) {
    s->f = timeout;
    int flags = fcntl(s->fd, F_GETFL);
    fcntl(s->fd, F_SETFL, timeout < 0 ? flags & ~O_NONBLOCK : flags | O_NONBLOCK);
}

static void sl_wait(V s, short events) {
    if (s->f <= 0) return;
    struct pollfd p = {s->fd, events, 0};
    int r;
    do r = poll(&p, 1, (int)(s->f * 1000)); while (r < 0 && errno == EINTR);
    if (r == 0) sl_timed_out();
}

/* Address tuple (or path) to sockaddr. */
static socklen_t sl_sockaddr(V s, V addr, struct sockaddr_storage *out) {
    memset(out, 0, sizeof *out);
    if (s->family == AF_UNIX) {
        if (addr->kind != T_STR && addr->kind != T_BYTES) sl_error("TypeError", "AF_UNIX address must be a path");
        struct sockaddr_un *un = (struct sockaddr_un *)out;
        un->sun_family = AF_UNIX;
        if (addr->n >= sizeof un->sun_path) sl_os_error(ENAMETOOLONG);
        memcpy(un->sun_path, addr->b, addr->n);
        /* A leading NUL names the abstract namespace: the length, not a terminator, ends the name. */
        return addr->b[0] == 0 ? (socklen_t)(offsetof(struct sockaddr_un, sun_path) + addr->n) : (socklen_t)sizeof *un;
    }
    if (addr->kind != T_TUPLE || addr->n < 2 || addr->items[0]->kind != T_STR)
        sl_error("TypeError", "%s address must be a tuple (host, port)", s->family == AF_INET6 ? "AF_INET6" : "AF_INET");
    const char *host = (const char *)addr->items[0]->b;
    int port = (int)sl_as_int(addr->items[1], "port");
    if (s->family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((unsigned short)port);
        if (inet_pton(AF_INET6, *host ? host : "::", &in6->sin6_addr) != 1) sl_os_error(EINVAL);
        return sizeof *in6;
    }
    struct sockaddr_in *in = (struct sockaddr_in *)out;
    in->sin_family = AF_INET;
    in->sin_port = htons((unsigned short)port);
    if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
    if (inet_pton(AF_INET, *host ? host : "0.0.0.0", &in->sin_addr) != 1) sl_os_error(EINVAL);
    return sizeof *in;
}

/* sockaddr to what Python shows: ('127.0.0.1', 5500), ('::1', 80, 0, 0) or a path. */
static V sl_addr_value(struct sockaddr_storage *a, socklen_t len) {
    char host[INET6_ADDRSTRLEN];
    if (a->ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)a;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        return SL_TUPLE(sl_cstr(host), sl_int(ntohs(in->sin_port)));
    }
    if (a->ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        return SL_TUPLE(sl_cstr(host), sl_int(ntohs(in6->sin6_port)), sl_int(ntohl(in6->sin6_flowinfo)), sl_int(in6->sin6_scope_id));
    }
    if (a->ss_family == AF_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)a;
        size_t n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
        if (n && un->sun_path[0] != 0) n = strnlen(un->sun_path, n);
        return sl_str(un->sun_path, n);
    }
    return SL_NONE;
}

static V sock_bind(V s, V addr) {
    struct sockaddr_storage a;
    socklen_t len = sl_sockaddr(sl_need_sock(s, "bind"), addr, &a);
    if (bind(s->fd, (struct sockaddr *)&a, len) < 0) sl_os_error(errno);
    return SL_NONE;
}

static V sock_listen(V s, V backlog) {
    if (listen(sl_need_sock(s, "listen")->fd, backlog ? (int)sl_as_int(backlog, "backlog") : 128) < 0) sl_os_error(errno);
    return SL_NONE;
}

static V sock_accept(V s) {
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    sl_need_sock(s, "accept");
    int fd;
    for (;;) {
        sl_wait(s, POLLIN);
        fd = accept4(s->fd, (struct sockaddr *)&a, &len, SOCK_CLOEXEC);
        if (fd >= 0) break;
        if (errno == EINTR || ((errno == EAGAIN) && s->f > 0)) continue;
        sl_os_error(errno);
    }
    V c = sl_new(T_SOCK);
    c->fd = fd;
    c->family = s->family;
    c->type = s->type;
    c->proto = s->proto;
    c->f = -1;
    return SL_TUPLE(c, sl_addr_value(&a, len));
}

static int sl_connect(V s, V addr) {
    struct sockaddr_storage a;
    socklen_t len = sl_sockaddr(sl_need_sock(s, "connect"), addr, &a);
    if (connect(s->fd, (struct sockaddr *)&a, len) == 0) return 0;
    int err = errno;
    if (err == EINPROGRESS && s->f > 0) {
        sl_wait(s, POLLOUT);
        socklen_t size = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &size);
    }
    return err;
}
static V sock_connect(V s, V addr) { int err = sl_connect(s, addr); if (err) sl_os_error(err); return SL_NONE; }
static V sock_connect_ex(V s, V addr) { return sl_int(sl_connect(s, addr)); }

static V sl_need_bytes(V data) {
    if (data->kind != T_BYTES) sl_error("TypeError", "a bytes-like object is required, not '%s'", sl_type(data));
    return data;
}

static V sock_send(V s, V data, V flags) {
    sl_need_sock(s, "send");
    sl_need_bytes(data);
    for (;;) {
        sl_wait(s, POLLOUT);
        ssize_t n = send(s->fd, data->b, data->n, MSG_NOSIGNAL | (flags ? (int)sl_as_int(flags, "flags") : 0));
        if (n >= 0) return sl_int(n);
        if (errno == EINTR || (errno == EAGAIN && s->f > 0)) continue;
        sl_os_error(errno);
    }
}

static V sock_sendall(V s, V data, V flags) {
    sl_need_sock(s, "sendall");
    sl_need_bytes(data);
    size_t done = 0;
    while (done < data->n) {
        sl_wait(s, POLLOUT);
        ssize_t n = send(s->fd, data->b + done, data->n - done, MSG_NOSIGNAL | (flags ? (int)sl_as_int(flags, "flags") : 0));
        if (n >= 0) { done += (size_t)n; continue; }
        if (errno == EINTR || (errno == EAGAIN && s->f > 0)) continue;
        sl_os_error(errno);
    }
    return SL_NONE;
}

static V sock_sendto(V s, V data, V addr) {
    struct sockaddr_storage a;
    socklen_t len = sl_sockaddr(sl_need_sock(s, "sendto"), addr, &a);
    sl_need_bytes(data);
    for (;;) {
        sl_wait(s, POLLOUT);
        ssize_t n = sendto(s->fd, data->b, data->n, MSG_NOSIGNAL, (struct sockaddr *)&a, len);
        if (n >= 0) return sl_int(n);
        if (errno == EINTR || (errno == EAGAIN && s->f > 0)) continue;
        sl_os_error(errno);
    }
}

static V sl_recv(V s, V size, V flags, int with_addr) {
    sl_need_sock(s, with_addr ? "recvfrom" : "recv");
    long long n = sl_as_int(size, "bufsize");
    if (n < 0) sl_error("ValueError", "negative buffersize in recv");
    V out = sl_buf(T_BYTES, "", 0);
    out->b = realloc(out->b, (size_t)n + 1);
    struct sockaddr_storage a;
    socklen_t len;
    for (;;) {
        sl_wait(s, POLLIN);
        len = sizeof a;
        memset(&a, 0, sizeof a);
        ssize_t got = recvfrom(s->fd, out->b, (size_t)n, flags ? (int)sl_as_int(flags, "flags") : 0, (struct sockaddr *)&a, &len);
        if (got >= 0) {
            out->n = (size_t)got;
            out->b[got] = 0;
            break;
        }
        if (errno == EINTR || (errno == EAGAIN && s->f > 0)) continue;
        sl_os_error(errno);
    }
    if (!with_addr) return out;
    return SL_TUPLE(out, len ? sl_addr_value(&a, len) : SL_NONE);
}
static V sock_recv(V s, V size, V flags) { return sl_recv(s, size, flags, 0); }
static V sock_recvfrom(V s, V size, V flags) { return sl_recv(s, size, flags, 1); }

static V sock_shutdown(V s, V how) {
    if (shutdown(sl_need_sock(s, "shutdown")->fd, (int)sl_as_int(how, "how")) < 0) sl_os_error(errno);
    return SL_NONE;
}

static V sock_close(V s) {
    if (s->kind != T_SOCK) sl_need_sock(s, "close");
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    return SL_NONE;
}

static V sock_setblocking(V s, V flag) { sl_set_timeout(sl_need_sock(s, "setblocking"), sl_truthy(flag) ? -1 : 0); return SL_NONE; }
static V sock_settimeout(V s, V t) {
    sl_set_timeout(sl_need_sock(s, "settimeout"), t->kind == T_NONE ? -1 : sl_as_number(t, "timeout"));
    return SL_NONE;
}

static V sock_setsockopt(V s, V level, V opt, V value) {
    sl_need_sock(s, "setsockopt");
    int r;
    if (value->kind == T_BYTES) {
        r = setsockopt(s->fd, (int)sl_as_int(level, "level"), (int)sl_as_int(opt, "option"), value->b, (socklen_t)value->n);
    } else {
        int i = (int)sl_as_int(value, "value");
        r = setsockopt(s->fd, (int)sl_as_int(level, "level"), (int)sl_as_int(opt, "option"), &i, sizeof i);
    }
    if (r < 0) sl_os_error(errno);
    return SL_NONE;
}

static V sock_getsockopt(V s, V level, V opt) {
    int i = 0;
    socklen_t len = sizeof i;
    if (getsockopt(sl_need_sock(s, "getsockopt")->fd, (int)sl_as_int(level, "level"), (int)sl_as_int(opt, "option"), &i, &len) < 0)
        sl_os_error(errno);
    return sl_int(i);
}

static V sl_name(V s, int peer) {
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    sl_need_sock(s, peer ? "getpeername" : "getsockname");
    if ((peer ? getpeername(s->fd, (struct sockaddr *)&a, &len) : getsockname(s->fd, (struct sockaddr *)&a, &len)) < 0)
        sl_os_error(errno);
    return sl_addr_value(&a, len);
}
static V sock_getsockname(V s) { return sl_name(s, 0); }
static V sock_getpeername(V s) { return sl_name(s, 1); }
static V sock_fileno(V s) { return sl_int(s->kind == T_SOCK ? s->fd : -1); }

/* select(r, w, x, timeout): lists of sockets in, the ready ones out. */
static V sl_select(V r, V w, V x, V timeout) {
    V lists[3] = {r, w, x};
    short events[3] = {POLLIN, POLLOUT, POLLPRI};
    size_t total = 0;
    for (int l = 0; l < 3; l++) {
        if (lists[l]->kind != T_LIST && lists[l]->kind != T_TUPLE) sl_error("TypeError", "select() arguments must be lists of sockets");
        total += lists[l]->n;
    }
    struct pollfd *p = calloc(total + 1, sizeof *p);
    size_t k = 0;
    for (int l = 0; l < 3; l++)
        for (size_t j = 0; j < lists[l]->n; j++, k++) {
            p[k].fd = sl_need_sock(lists[l]->items[j], "fileno")->fd;
            p[k].events = events[l];
        }
    int ms = !timeout || timeout->kind == T_NONE ? -1 : (int)(sl_as_number(timeout, "timeout") * 1000);
    int n;
    do n = poll(p, total, ms); while (n < 0 && errno == EINTR);
    if (n < 0) sl_os_error(errno);
    V ready[3];
    k = 0;
    for (int l = 0; l < 3; l++) {
        ready[l] = SL_EMPTY_LIST();
        for (size_t j = 0; j < lists[l]->n; j++, k++)
            if (p[k].revents & (events[l] | POLLERR | POLLHUP)) sl_list_push(ready[l], lists[l]->items[j]);
    }
    free(p);
    return SL_TUPLE(ready[0], ready[1], ready[2]);
}

/* ---- ping helpers ---- */

static unsigned sl_checksum_of(const unsigned char *data, size_t n) {
    unsigned long sum = 0;
    for (size_t k = 0; k < n; k += 2) sum += (unsigned long)(data[k] << 8 | (k + 1 < n ? data[k + 1] : 0));
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    return (unsigned)(~sum & 0xffff);
}
static V sl_checksum(V data) { return sl_int(sl_checksum_of(sl_need_bytes(data)->b, data->n)); }

static V sl_icmp_echo_request(V ident, V seq, V payload) {
    size_t n = payload ? sl_need_bytes(payload)->n : 0;
    unsigned char *p = calloc(1, 8 + n);
    long long id = sl_as_int(ident, "ident"), sq = sl_as_int(seq, "seq");
    p[0] = 8;
    p[4] = (unsigned char)(id >> 8); p[5] = (unsigned char)id;
    p[6] = (unsigned char)(sq >> 8); p[7] = (unsigned char)sq;
    if (n) memcpy(p + 8, payload->b, n);
    unsigned sum = sl_checksum_of(p, 8 + n);
    p[2] = (unsigned char)(sum >> 8); p[3] = (unsigned char)sum;
    return sl_bytes(p, 8 + n);
}

/* Fields: type, code, ident, seq, ttl, payload, checksum, src, dst. */
static V sl_icmp_parse(V data) {
    const unsigned char *p = sl_need_bytes(data)->b;
    size_t n = data->n;
    V ttl = SL_NONE, src = SL_NONE, dst = SL_NONE;
    if (n && p[0] >> 4 == 4) {
        size_t ihl = (size_t)(p[0] & 0x0f) * 4;
        if (ihl < 20 || n < ihl) sl_error("ValueError", "truncated IPv4 header");
        char host[INET_ADDRSTRLEN];
        ttl = sl_int(p[8]);
        inet_ntop(AF_INET, p + 12, host, sizeof host); src = sl_cstr(host);
        inet_ntop(AF_INET, p + 16, host, sizeof host); dst = sl_cstr(host);
        p += ihl;
        n -= ihl;
    }
    if (n < 8) sl_error("ValueError", "truncated ICMP message: %zu bytes, the header alone is 8", n);
    V m = sl_seq(T_ICMP, 9, (V[]){sl_int(p[0]), sl_int(p[1]), sl_int(p[4] << 8 | p[5]), sl_int(p[6] << 8 | p[7]), ttl,
                                  sl_bytes(p + 8, n - 8), sl_int(p[2] << 8 | p[3]), src, dst});
    m->kind = T_ICMP;
    return m;
}

/* x.name for exceptions, ICMP messages and sockets. */
static V sl_getattr(V v, const char *name) {
    if (v->kind == T_EXC) {
        if (strcmp(name, "errno") == 0) return v->i ? sl_int(v->i) : SL_NONE;
        if (strcmp(name, "strerror") == 0) return v->i ? sl_str((char *)v->b, v->n) : SL_NONE;
    }
    if (v->kind == T_ICMP) {
        static const char *fields[] = {"type", "code", "ident", "seq", "ttl", "payload", "checksum", "src", "dst"};
        for (int k = 0; k < 9; k++)
            if (strcmp(name, fields[k]) == 0) return v->items[k];
        if (strcmp(name, "id") == 0) return v->items[2];
    }
    if (v->kind == T_SOCK) {
        if (strcmp(name, "family") == 0) return sl_int(v->family);
        if (strcmp(name, "type") == 0) return sl_int(v->type);
        if (strcmp(name, "proto") == 0) return sl_int(v->proto);
    }
    sl_error("AttributeError", "'%s' object has no attribute '%s'", sl_type(v), name);
}

/* ---- lab_peer(): the playground's lab servers, as threads of this program ---- */

static const char SL_HTTP_PAGE[] = "<html><body><h1>Hello from socklab</h1><p>This page was sent with Content-Length.</p></body></html>\n";
static const char *SL_HTTP_CHUNKS[] = {"<html><body>\n", "<p>This page came in chunks,</p>\n", "<p>each with its size in hex.</p>\n", "</body></html>\n"};

typedef struct { int fd; int kind; } sl_peer_conn;
enum { PEER_ECHO, PEER_DISCARD, PEER_SLOW, PEER_RESET, PEER_HTTP };

static int sl_write_all(int fd, const char *data, size_t n) {
    while (n) {
        ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

static void sl_http_respond(int fd, const char *status, const char *type, const char *body, int close_after) {
    char head[512];
    snprintf(head, sizeof head, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\nServer: socklab-lab-peer\r\n\r\n",
             status, type, strlen(body), close_after ? "close" : "keep-alive");
    sl_write_all(fd, head, strlen(head));
    sl_write_all(fd, body, strlen(body));
}

static void sl_peer_http(int fd) {
    char pending[16384];
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(pending, have, "\r\n\r\n", 4))) {
            if (have == sizeof pending) return;
            ssize_t n = recv(fd, pending + have, sizeof pending - have, 0);
            if (n <= 0) return;
            have += (size_t)n;
        }
        size_t head_len = (size_t)(end - pending) + 4;
        char head[16384];
        memcpy(head, pending, head_len - 4);
        head[head_len - 4] = 0;
        memmove(pending, pending + head_len, have - head_len);
        have -= head_len;
        char method[16] = "", path[256] = "", version[16] = "";
        sscanf(head, "%15s %255s %15s", method, path, version);
        int close_after = strcmp(version, "HTTP/1.0") == 0 || strcasestr(head, "\r\nconnection: close") != NULL;
        if (strncmp(version, "HTTP/1.", 7) != 0) {
            sl_http_respond(fd, "400 Bad Request", "text/plain", "expected HTTP/1.1 request line: GET /path HTTP/1.1\n", 1);
            return;
        }
        if (strcmp(method, "GET") == 0 && (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)) {
            sl_http_respond(fd, "200 OK", "text/html", SL_HTTP_PAGE, close_after);
        } else if (strcmp(method, "GET") == 0 && strcmp(path, "/chunked") == 0) {
            char text[256];
            snprintf(text, sizeof text, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: %s\r\nServer: socklab-lab-peer\r\n\r\n",
                     close_after ? "close" : "keep-alive");
            sl_write_all(fd, text, strlen(text));
            for (size_t k = 0; k < sizeof SL_HTTP_CHUNKS / sizeof *SL_HTTP_CHUNKS; k++) {
                snprintf(text, sizeof text, "%zx\r\n%s\r\n", strlen(SL_HTTP_CHUNKS[k]), SL_HTTP_CHUNKS[k]);
                sl_write_all(fd, text, strlen(text));
            }
            sl_write_all(fd, "0\r\n\r\n", 5);
        } else if (strcmp(method, "GET") == 0) {
            sl_http_respond(fd, "404 Not Found", "text/plain", "not found: try / or /chunked\n", close_after);
        } else {
            sl_http_respond(fd, "405 Method Not Allowed", "text/plain", "only GET is served here\n", close_after);
        }
        if (close_after) {
            shutdown(fd, SHUT_WR);
            return;
        }
    }
}

static void *sl_peer_serve(void *arg) {
    sl_peer_conn *c = arg;
    char buf[65536];
    ssize_t n;
    switch (c->kind) {
    case PEER_ECHO:
        while ((n = recv(c->fd, buf, sizeof buf, 0)) > 0)
            if (sl_write_all(c->fd, buf, (size_t)n) < 0) break;
        shutdown(c->fd, SHUT_WR);
        break;
    case PEER_DISCARD:
        while (recv(c->fd, buf, sizeof buf, 0) > 0) {}
        break;
    case PEER_SLOW:
        for (;;) {
            usleep(200000);
            if (recv(c->fd, buf, 512, 0) <= 0) break;
        }
        break;
    case PEER_RESET: {
        struct linger l = {1, 0}; /* close() now sends RST instead of FIN */
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        break;
    }
    default:
        sl_peer_http(c->fd);
    }
    close(c->fd);
    free(c);
    return NULL;
}

static void *sl_peer_accept(void *arg) {
    sl_peer_conn *listener = arg;
    for (;;) {
        int fd = accept4(listener->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        sl_peer_conn *c = malloc(sizeof *c);
        c->fd = fd;
        c->kind = listener->kind;
        pthread_t t;
        pthread_create(&t, NULL, sl_peer_serve, c);
        pthread_detach(t);
    }
    return NULL;
}

/* Start a lab server on a free loopback port, in a thread; return its address. */
static V sl_lab_peer(V kind) {
    static const char *names[] = {"echo", "discard", "slow_reader", "reset", "http"};
    if (kind->kind != T_STR) sl_error("TypeError", "lab_peer() argument must be str, not %s", sl_type(kind));
    int k = -1;
    for (int j = 0; j < 5; j++)
        if (strcmp((char *)kind->b, names[j]) == 0) k = j;
    if (strcmp((char *)kind->b, "slow") == 0) k = PEER_SLOW;
    if (strcmp((char *)kind->b, "rst") == 0) k = PEER_RESET;
    if (k < 0) sl_error("ValueError", "unknown lab peer %s: echo, discard, slow_reader, reset or http", (char *)kind->b);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, small = 2048;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (k == PEER_SLOW) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0) sl_os_error(errno);
    getsockname(fd, (struct sockaddr *)&a, &len);
    sl_peer_conn *listener = malloc(sizeof *listener);
    listener->fd = fd;
    listener->kind = k;
    pthread_t t;
    pthread_create(&t, NULL, sl_peer_accept, listener);
    pthread_detach(t);
    return SL_TUPLE(sl_cstr("127.0.0.1"), sl_int(ntohs(a.sin_port)));
}

/* ---- lanes: a pthread each; lane N+1 starts once lane N finished or may wait ---- */

typedef struct {
    const char *name;
    void (*body)(void);
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int may_start_next;
    int failed;
} sl_lane_ctx;

static __thread sl_lane_ctx *sl_current;

/* Called where the lane reaches its first call that may wait: the next lane may start. */
static void sl_may_start_next(void) {
    sl_lane_ctx *lane = sl_current;
    pthread_mutex_lock(&lane->lock);
    lane->may_start_next = 1;
    pthread_cond_signal(&lane->changed);
    pthread_mutex_unlock(&lane->lock);
}

static void *sl_run_lane(void *arg) {
    sl_lane_ctx *lane = arg;
    sl_current = lane;
    sl_lane = lane->name;
    sl_handler h;
    h.outer = NULL;
    sl_top = &h;
    if (setjmp(h.jump) == 0) {
        lane->body();
        sl_top = NULL;
    } else {
        lane->failed = 1;
        pthread_mutex_lock(&sl_output_lock);
        V text = sl_str_of(h.exc);
        fprintf(stderr, "[%s] stopped: %s: %s\n", lane->name, h.exc->cls, (char *)text->b);
        pthread_mutex_unlock(&sl_output_lock);
    }
    sl_may_start_next();
    return NULL;
}

static int sl_run_lanes(sl_lane_ctx *lanes, size_t count) {
    /* Unix socket paths land in a fresh directory, as in the playground's session directory. */
    char dir[] = "/tmp/socklab-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) < 0) { perror("mkdtemp"); return 2; }
    pthread_t *threads = calloc(count, sizeof *threads);
    for (size_t k = 0; k < count; k++) {
        pthread_mutex_init(&lanes[k].lock, NULL);
        pthread_cond_init(&lanes[k].changed, NULL);
        pthread_create(&threads[k], NULL, sl_run_lane, &lanes[k]);
        pthread_mutex_lock(&lanes[k].lock);
        while (!lanes[k].may_start_next) pthread_cond_wait(&lanes[k].changed, &lanes[k].lock);
        pthread_mutex_unlock(&lanes[k].lock);
    }
    int failed = 0;
    for (size_t k = 0; k < count; k++) {
        pthread_join(threads[k], NULL);
        failed |= lanes[k].failed;
    }
    return failed ? 1 : 0;
}

/* ---- end of the runtime; the script follows ---- */
