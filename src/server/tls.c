/* tls.c — HTTPS and WSS: the certificate chain and private key given as two PEM
 * files (--tls-cert, --tls-key), checked before the listener starts (readable,
 * parseable, the key matching the certificate) so that a mistake is one clear
 * error at start-up, then loaded into civetweb's SSL_CTX by its init_ssl
 * callback. civetweb 1.15 (Debian) loads libssl at run time and would take a
 * single PEM holding both; the callback keeps the key in its own file. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "server/internal.h"

/* OpenSSL's oldest queued error as text ("" when none), clearing the queue. */
static void openssl_reason(char *out, size_t n) {
    unsigned long e = ERR_get_error();
    out[0] = '\0';
    if (e) ERR_error_string_n(e, out, n);
    ERR_clear_error();
}

/* Loads the chain and the key into ctx and checks that they belong together. */
static int tls_ctx_load(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t err_size) {
    char why[256];
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        openssl_reason(why, sizeof why);
        return error_set(err, err_size, TRIDENT_EFORMAT,
                         "--tls-cert %s holds no usable PEM certificate (%s)", cert, why);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        int mismatch = ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH;
        openssl_reason(why, sizeof why);
        if (mismatch)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "--tls-key %s is not the private key of the certificate in --tls-cert %s (%s)", key,
                             cert, why);
        return error_set(err, err_size, TRIDENT_EFORMAT,
                         "--tls-key %s holds no usable unencrypted PEM private key (%s)", key, why);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        openssl_reason(why, sizeof why);
        return error_set(err, err_size, TRIDENT_EFORMAT,
                         "--tls-key %s is not the private key of the certificate in --tls-cert %s (%s)", key, cert,
                         why);
    }
    return 0;
}

/* A file must open for reading: named in the error otherwise. */
static int tls_file_readable(const char *flag, const char *path, char *err, size_t err_size) {
    FILE *f = fopen(path, "rb");
    if (!f) return error_set(err, err_size, TRIDENT_ENOTFOUND, "%s %s cannot be read: %s", flag, path, strerror(errno));
    fclose(f);
    return 0;
}

int tls_files_check(const char *cert, const char *key, char *err, size_t err_size) {
    if (!cert || !*cert || !key || !*key)
        return error_set(err, err_size, TRIDENT_EINVAL,
                         "TLS needs both --tls-cert FILE and --tls-key FILE (PEM certificate chain and private key)");
    int rc = tls_file_readable("--tls-cert", cert, err, err_size);
    if (rc == 0) rc = tls_file_readable("--tls-key", key, err, err_size);
    if (rc != 0) return rc;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return error_set(err, err_size, TRIDENT_ENOMEM, "OpenSSL could not create a TLS context");
    rc = tls_ctx_load(ctx, cert, key, err, err_size);
    SSL_CTX_free(ctx);
    return rc;
}

int tls_context_init(void *ssl_ctx, void *user_data) {
    server *srv = user_data;
    char err[TRIDENT_ERR_SIZE];
    if (tls_ctx_load(ssl_ctx, srv->cfg.tls_cert, srv->cfg.tls_key, err, sizeof err) != 0) {
        log_error("server", "TLS set-up failed: %s", err);
        return -1;
    }
    return 1; /* the certificate is set: civetweb does not look for ssl_certificate */
}
