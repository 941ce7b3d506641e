/* access.h — who may do what: API tokens with roles, sign-in sessions, and
 * the permissions of each role. Transport-independent (the server maps the
 * answers to 401/403); the tokens and sessions live in the store (schema 4),
 * so every server on one database shares them.
 *
 * A token is "trd_" + 64 hex digits (256 random bits from getrandom); a
 * session id "trs_" + 64 hex digits. Only their SHA-256 (libcrypto) is stored,
 * so a copy of the database holds no usable secret.
 *
 * Roles: ingest (telephony bridges: uploads and live calls), viewer (reads
 * calls, the queue and recordings), dispatcher (reads, uploads, works the
 * queue), supervisor (everything: also overrides, the audit log, /metrics,
 * the token list). */
#ifndef TRIDENT_SERVICE_ACCESS_H
#define TRIDENT_SERVICE_ACCESS_H

#include <stddef.h>

#include "store/store.h"

typedef enum {
    ACCESS_ROLE_INGEST = 0,
    ACCESS_ROLE_DISPATCHER,
    ACCESS_ROLE_SUPERVISOR,
    ACCESS_ROLE_VIEWER,
    ACCESS_ROLE_COUNT
} access_role;

typedef enum {
    ACCESS_INGEST = 0, /* POST /api/analyze, a live call on /ws/live */
    ACCESS_READ,       /* calls, transcripts, recordings, the queue */
    ACCESS_DISPATCH,   /* claim, release, dispatch, resolve, cancel, duplicate, notes */
    ACCESS_OVERRIDE,   /* move a call to another queue */
    ACCESS_ADMIN,      /* the audit log, /metrics, the token list */
    ACCESS_PERMISSION_COUNT
} access_permission;

/* Characters of a token or session id, with its NUL. */
#define ACCESS_SECRET_SIZE (4 + 64 + 1)
/* How long a sign-in session lasts (a 12-hour shift). */
#define ACCESS_SESSION_S (12 * 3600.0)

typedef struct {
    char name[STORE_ACTOR_MAX + 1]; /* the token's name: the history's and the audit log's "who" */
    access_role role;
} access_identity;

/* "ingest", "dispatcher", "supervisor", "viewer" (static), and back: 0 or -1 for an unknown name. */
const char *access_role_name(access_role role);
int access_role_parse(const char *name, access_role *out);
/* 1 when role may do p. */
int access_role_allows(access_role role, access_permission p);
/* What p lets one do, for messages ("read calls", "change calls", ...; static). */
const char *access_permission_text(access_permission p);

/* Creates a token named name (1..STORE_ACTOR_MAX bytes of printable UTF-8)
 * with role; its secret goes to token (shown once: only its hash is kept).
 * TRIDENT_EINVAL for a bad name, TRIDENT_ECONFLICT when the name is taken. */
int access_token_create(store *s, const char *name, access_role role, char token[ACCESS_SECRET_SIZE], char *err,
                        size_t err_size);
/* The identity of an active token (TRIDENT_ENOTFOUND: unknown or revoked);
 * records its use (at most once a minute). */
int access_token_check(store *s, const char *token, access_identity *who, char *err, size_t err_size);
/* Signs in with token: a new session for ACCESS_SESSION_S whose id goes to
 * session; *who is the token's identity. TRIDENT_ENOTFOUND for a bad token. */
int access_session_open(store *s, const char *token, char session[ACCESS_SECRET_SIZE], access_identity *who,
                        double *expires_at, char *err, size_t err_size);
/* The identity of an open session (TRIDENT_ENOTFOUND: unknown, expired, or its token revoked). */
int access_session_check(store *s, const char *session, access_identity *who, char *err, size_t err_size);
/* Signs out (nothing when the session does not exist). */
int access_session_close(store *s, const char *session, char *err, size_t err_size);

#endif
