/* subtitles.c — a transcription's segments as plain text, SRT or WebVTT, in the
 * layout of the official writers (WriteTXT, WriteSRT, WriteVTT): timestamps
 * rounded to the millisecond, cue text stripped with "-->" made harmless. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whisper/decoding.h"
#include "whisper/subtitles.h"

void whisper_timestamp_format(double seconds, int always_hours, char decimal_marker, char *out, size_t out_size) {
    if (!(seconds >= 0)) seconds = 0;
    long long ms = llround(seconds * 1000.0);
    long long hours = ms / 3600000;
    ms -= hours * 3600000;
    long long minutes = ms / 60000;
    ms -= minutes * 60000;
    long long secs = ms / 1000;
    ms -= secs * 1000;
    if (always_hours || hours > 0)
        snprintf(out, out_size, "%02lld:%02lld:%02lld%c%03lld", hours, minutes, secs, decimal_marker, ms);
    else
        snprintf(out, out_size, "%02lld:%02lld%c%03lld", minutes, secs, decimal_marker, ms);
}

/* A growing string. */
typedef struct {
    char *s;
    size_t n, cap;
    int failed;
} text_buf;

static void buf_printf(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(text_buf *b, const char *fmt, ...) {
    if (b->failed) return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
        b->failed = 1;
        return;
    }
    if (b->n + (size_t)need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + (size_t)need + 1) cap *= 2;
        char *grown = realloc(b->s, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)need;
}

/* The stripped text of a segment with every "-->" written "->" (NULL on OOM). */
static char *cue_text(const char *text) {
    char *t = whisper_text_strip(text ? text : "");
    if (!t) return NULL;
    /* one left-to-right pass, as Python's str.replace: "-->" → "->" */
    char *from = t, *to = t;
    while (*from) {
        if (from[0] == '-' && from[1] == '-' && from[2] == '>') {
            *to++ = '-';
            *to++ = '>';
            from += 3;
        } else {
            *to++ = *from++;
        }
    }
    *to = '\0';
    return t;
}

char *whisper_result_format(const whisper_result *r, const char *format) {
    int txt = strcmp(format, "txt") == 0, srt = strcmp(format, "srt") == 0, vtt = strcmp(format, "vtt") == 0;
    if (!txt && !srt && !vtt) return NULL;
    text_buf b = {0};
    if (vtt) buf_printf(&b, "WEBVTT\n\n");
    int cue = 0;
    for (int i = 0; i < r->n_segments; i++) {
        const whisper_segment *g = &r->segments[i];
        char *t = txt ? whisper_text_strip(g->text ? g->text : "") : cue_text(g->text);
        if (!t) {
            b.failed = 1;
            break;
        }
        if (txt) {
            buf_printf(&b, "%s\n", t);
        } else {
            char a[32], e[32];
            whisper_timestamp_format(g->start, srt, srt ? ',' : '.', a, sizeof a);
            whisper_timestamp_format(g->end, srt, srt ? ',' : '.', e, sizeof e);
            if (srt) buf_printf(&b, "%d\n", ++cue);
            buf_printf(&b, "%s --> %s\n%s\n\n", a, e, t);
        }
        free(t);
    }
    if (!b.s && !b.failed) buf_printf(&b, "%s", "");
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
