/* libssl.c — libtrident_libssl.so (SONAME "libssl.so"): lets Debian 12's
 * civetweb 1.15 speak TLS with OpenSSL 3.
 *
 * civetweb loads OpenSSL at run time: dlopen("libssl.so") and a dlsym for each
 * function of its OpenSSL 1.1 table. One of them, SSL_get_peer_certificate, is
 * only a macro in OpenSSL 3 (for SSL_get1_peer_certificate), so civetweb keeps
 * a NULL pointer and calls it on every TLS connection (a crash on the first
 * HTTPS request). This library is a dependency of the trident binary; when
 * civetweb asks for "libssl.so", the dynamic loader returns the loaded object of
 * that SONAME — this one — and dlsym finds SSL_get_peer_certificate here and
 * every other function in libssl.so.3, its dependency. */

struct ssl_st;
struct x509_st;

struct x509_st *SSL_get1_peer_certificate(const struct ssl_st *s);

/* OpenSSL 1.1's name: the peer's certificate with a reference the caller frees. */
struct x509_st *SSL_get_peer_certificate(const struct ssl_st *s);
struct x509_st *SSL_get_peer_certificate(const struct ssl_st *s) { return SSL_get1_peer_certificate(s); }
