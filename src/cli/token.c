/* token.c — `trident token add|list|revoke`: the API tokens in the store that
 * `trident serve` checks (service/access.h). The secret is printed once, by
 * add; the store keeps only its SHA-256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "cli/cli.h"
#include "service/access.h"

static void token_usage(FILE *out) {
    fprintf(out, "usage: trident token add --name NAME --role ROLE [--db DB]\n"
                 "       trident token list [--db DB]\n"
                 "       trident token revoke NAME [--db DB]\n\n"
                 "API tokens for `trident serve` (Authorization: Bearer TOKEN, or the dashboard's sign-in).\n"
                 "Roles: ingest (uploads and live calls only: telephony bridges), viewer (reads calls),\n"
                 "dispatcher (reads, uploads, works the queue), supervisor (everything: overrides, the\n"
                 "audit log, /metrics). add prints the new token once on stdout; only its hash is kept.\n"
                 "A revoked token stops working at once on every server sharing the database; its name\n"
                 "stays taken. DB: the SQLite file or postgres:// URL of `trident serve --db`\n"
                 "(default: TRIDENT_DB, else trident.db).\n");
}

static void time_text(double t, const char *none, char *out, unsigned n) {
    if (t > 0) clock_iso8601(t, out, n);
    else snprintf(out, n, "%s", none);
}

static int token_list(store *s) {
    store_token *t = NULL;
    size_t count = 0;
    char err[TRIDENT_ERR_SIZE];
    if (store_token_list(s, &t, &count, err, sizeof err) != 0) {
        fprintf(stderr, "trident token list: %s\n", err);
        return 1;
    }
    printf("%-24s %-11s %-24s %-24s %s\n", "NAME", "ROLE", "CREATED", "LAST USED", "REVOKED");
    for (size_t i = 0; i < count; i++) {
        char created[40], used[40], revoked[40];
        time_text(t[i].created_at, "-", created, sizeof created);
        time_text(t[i].last_used_at, "never", used, sizeof used);
        time_text(t[i].revoked_at, "-", revoked, sizeof revoked);
        printf("%-24s %-11s %-24s %-24s %s\n", t[i].name, t[i].role, created, used, revoked);
    }
    store_token_list_free(t, count);
    return 0;
}

int cli_token(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        token_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1], *db = getenv("TRIDENT_DB"), *name = NULL, *role_name = NULL;
    if (!db || !*db) db = "trident.db";
    for (int a = 2; a < argc; a++) {
        const char **slot = strcmp(argv[a], "--db") == 0     ? &db
                            : strcmp(argv[a], "--name") == 0 ? &name
                            : strcmp(argv[a], "--role") == 0 ? &role_name
                                                             : NULL;
        if (slot && a + 1 < argc) *slot = argv[++a];
        else if (!slot && argv[a][0] != '-' && strcmp(cmd, "revoke") == 0 && !name) name = argv[a];
        else {
            fprintf(stderr, "trident token %s: unexpected '%s' (see trident token --help)\n", cmd, argv[a]);
            return 2;
        }
    }
    int adding = strcmp(cmd, "add") == 0, listing = strcmp(cmd, "list") == 0, revoking = strcmp(cmd, "revoke") == 0;
    if (!adding && !listing && !revoking) {
        fprintf(stderr, "trident token: unknown command '%s': add, list or revoke\n", cmd);
        return 2;
    }
    access_role role = ACCESS_ROLE_VIEWER;
    if (adding && (!name || !role_name || access_role_parse(role_name, &role) != 0)) {
        fprintf(stderr, "trident token add: give --name NAME and --role ingest|dispatcher|supervisor|viewer\n");
        return 2;
    }
    if (revoking && !name) {
        fprintf(stderr, "trident token revoke: give the token's NAME\n");
        return 2;
    }
    char err[TRIDENT_ERR_SIZE];
    store *s = NULL;
    if (store_open(db, NULL, &s, err, sizeof err) != 0) {
        fprintf(stderr, "trident token %s: %s\n", cmd, err);
        return 1;
    }
    int rc = 0;
    if (listing) {
        rc = token_list(s);
    } else if (adding) {
        char token[ACCESS_SECRET_SIZE];
        if (access_token_create(s, name, role, token, err, sizeof err) != 0) {
            fprintf(stderr, "trident token add: %s\n", err);
            rc = 1;
        } else {
            printf("%s\n", token);
            fprintf(stderr, "token '%s' (%s) created; it is shown only this once\n", name, access_role_name(role));
        }
    } else if (store_token_revoke(s, name, clock_wall_s(), err, sizeof err) != 0) {
        fprintf(stderr, "trident token revoke: %s\n", err);
        rc = 1;
    } else {
        fprintf(stderr, "token '%s' revoked; its sessions are ended\n", name);
    }
    store_close(s);
    return rc;
}
