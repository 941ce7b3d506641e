/* access.c — API tokens, sign-in sessions and role permissions (access.h):
 * random secrets, their SHA-256, and the store's token and session tables. */
#include "service/access.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/utf8.h"

/* A token's last use is written at most this often (seconds): a read per request, not a write. */
#define ACCESS_TOUCH_S 60.0

static const char *const role_names[ACCESS_ROLE_COUNT] = {"ingest", "dispatcher", "supervisor", "viewer"};

/* allowed[role][permission] */
static const unsigned char allowed[ACCESS_ROLE_COUNT][ACCESS_PERMISSION_COUNT] = {
    [ACCESS_ROLE_INGEST] = {[ACCESS_INGEST] = 1},
    [ACCESS_ROLE_DISPATCHER] = {[ACCESS_INGEST] = 1, [ACCESS_READ] = 1, [ACCESS_DISPATCH] = 1},
    [ACCESS_ROLE_SUPERVISOR] = {1, 1, 1, 1, 1},
    [ACCESS_ROLE_VIEWER] = {[ACCESS_READ] = 1},
};

static const char *const permission_texts[ACCESS_PERMISSION_COUNT] = {
    "send calls", "read calls", "change calls", "override a call's queue", "administer (audit log, metrics, tokens)"};

const char *access_role_name(access_role role) {
    return role >= 0 && role < ACCESS_ROLE_COUNT ? role_names[role] : "unknown";
}

int access_role_parse(const char *name, access_role *out) {
    for (int i = 0; name && i < ACCESS_ROLE_COUNT; i++)
        if (strcmp(name, role_names[i]) == 0) {
            *out = (access_role)i;
            return 0;
        }
    return -1;
}

int access_role_allows(access_role role, access_permission p) {
    return role >= 0 && role < ACCESS_ROLE_COUNT && p >= 0 && p < ACCESS_PERMISSION_COUNT && allowed[role][p];
}

const char *access_permission_text(access_permission p) {
    return p >= 0 && p < ACCESS_PERMISSION_COUNT ? permission_texts[p] : "do that";
}

/* prefix + 64 hex digits of 32 random bytes into out. */
static int secret_generate(const char *prefix, char out[ACCESS_SECRET_SIZE], char *err, size_t n) {
    unsigned char b[32];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return error_set(err, n, TRIDENT_EIO, "cannot read random bytes: %s", strerror(errno));
        }
        got += (size_t)r;
    }
    static const char hex[] = "0123456789abcdef";
    memcpy(out, prefix, 4);
    for (size_t i = 0; i < sizeof b; i++) {
        out[4 + 2 * i] = hex[b[i] >> 4];
        out[5 + 2 * i] = hex[b[i] & 15];
    }
    out[ACCESS_SECRET_SIZE - 1] = '\0';
    return TRIDENT_OK;
}

/* The SHA-256 of secret in lowercase hex. */
static int secret_hash(const char *secret, char out[STORE_HASH_HEX + 1], char *err, size_t n) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(secret, strlen(secret), md, &len, EVP_sha256(), NULL) != 1 || len != STORE_HASH_HEX / 2)
        return error_set(err, n, TRIDENT_EIO, "SHA-256 failed (libcrypto)");
    static const char hex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[STORE_HASH_HEX] = '\0';
    return TRIDENT_OK;
}

/* 1 when s looks like a secret with prefix (so nothing else reaches the hash or the database). */
static int secret_shaped(const char *s, const char *prefix) {
    if (!s || strncmp(s, prefix, 4) != 0 || strlen(s) != ACCESS_SECRET_SIZE - 1) return 0;
    return strspn(s + 4, "0123456789abcdef") == ACCESS_SECRET_SIZE - 5;
}

static int name_valid(const char *name) {
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > STORE_ACTOR_MAX) return 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f) return 0;
        size_t l = utf8_sequence_len((const unsigned char *)name + i, len - i);
        if (!l) return 0;
        i += l;
    }
    return name[0] != ' ' && name[len - 1] != ' ';
}

int access_token_create(store *s, const char *name, access_role role, char token[ACCESS_SECRET_SIZE], char *err,
                        size_t err_size) {
    if (!name_valid(name))
        return error_set(err, err_size, TRIDENT_EINVAL,
                         "a token's name is 1..%d bytes of printable UTF-8 without leading or trailing spaces",
                         STORE_ACTOR_MAX);
    if (role < 0 || role >= ACCESS_ROLE_COUNT) return error_set(err, err_size, TRIDENT_EINVAL, "unknown role");
    char hash[STORE_HASH_HEX + 1];
    int rc = secret_generate("trd_", token, err, err_size);
    if (!rc) rc = secret_hash(token, hash, err, err_size);
    if (!rc) rc = store_token_insert(s, name, role_names[role], hash, clock_wall_s(), err, err_size);
    if (rc) memset(token, 0, ACCESS_SECRET_SIZE);
    return rc;
}

/* Fills who from a token row; records its use when the last one is older than ACCESS_TOUCH_S. */
static int identity_from(store *s, store_token *t, access_identity *who, char *err, size_t err_size) {
    access_role role = ACCESS_ROLE_VIEWER;
    int rc = access_role_parse(t->role, &role);
    if (rc) rc = error_set(err, err_size, TRIDENT_EDB, "token '%s' has an unknown role '%s'", t->name, t->role);
    if (!rc) {
        snprintf(who->name, sizeof who->name, "%s", t->name);
        who->role = role;
        double now = clock_wall_s();
        if (now - t->last_used_at > ACCESS_TOUCH_S) rc = store_token_touch(s, t->name, now, err, err_size);
    }
    store_token_clear(t);
    return rc;
}

int access_token_check(store *s, const char *token, access_identity *who, char *err, size_t err_size) {
    if (!secret_shaped(token, "trd_")) return error_set(err, err_size, TRIDENT_ENOTFOUND, "unknown or revoked token");
    char hash[STORE_HASH_HEX + 1];
    store_token t;
    int rc = secret_hash(token, hash, err, err_size);
    if (!rc) rc = store_token_find(s, hash, &t, err, err_size);
    return rc ? rc : identity_from(s, &t, who, err, err_size);
}

int access_session_open(store *s, const char *token, char session[ACCESS_SECRET_SIZE], access_identity *who,
                        double *expires_at, char *err, size_t err_size) {
    int rc = access_token_check(s, token, who, err, err_size);
    char hash[STORE_HASH_HEX + 1];
    double now = clock_wall_s();
    if (!rc) rc = secret_generate("trs_", session, err, err_size);
    if (!rc) rc = secret_hash(session, hash, err, err_size);
    if (!rc) rc = store_session_insert(s, hash, who->name, now, now + ACCESS_SESSION_S, err, err_size);
    /* the token was revoked between the check and the insert */
    if (rc == TRIDENT_ECONFLICT) rc = error_set(err, err_size, TRIDENT_ENOTFOUND, "unknown or revoked token");
    if (rc) memset(session, 0, ACCESS_SECRET_SIZE);
    else *expires_at = now + ACCESS_SESSION_S;
    return rc;
}

int access_session_check(store *s, const char *session, access_identity *who, char *err, size_t err_size) {
    if (!secret_shaped(session, "trs_"))
        return error_set(err, err_size, TRIDENT_ENOTFOUND, "no such session (expired or signed out)");
    char hash[STORE_HASH_HEX + 1];
    store_token t;
    int rc = secret_hash(session, hash, err, err_size);
    if (!rc) rc = store_session_find(s, hash, clock_wall_s(), &t, err, err_size);
    if (rc == TRIDENT_ENOTFOUND) return error_set(err, err_size, rc, "no such session (expired or signed out)");
    return rc ? rc : identity_from(s, &t, who, err, err_size);
}

int access_session_close(store *s, const char *session, char *err, size_t err_size) {
    if (!secret_shaped(session, "trs_")) return TRIDENT_OK;
    char hash[STORE_HASH_HEX + 1];
    int rc = secret_hash(session, hash, err, err_size);
    return rc ? rc : store_session_delete(s, hash, err, err_size);
}
