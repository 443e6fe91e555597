#ifndef MEDSEARCH_COPENSSL_SHIM_H
#define MEDSEARCH_COPENSSL_SHIM_H
// OpenSSL 3 headers; wrappers below exist only for macros Swift cannot import.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/rand.h>
#include <openssl/bn.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>

static inline long copenssl_bio_get_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }
static inline long copenssl_ssl_ctx_set_options(SSL_CTX *ctx, uint64_t op) { return (long)SSL_CTX_set_options(ctx, op); }
static inline int copenssl_ssl_ctx_set_min_proto_tls12(SSL_CTX *ctx) { return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); }
static inline long copenssl_ssl_set_tlsext_host_name(SSL *s, const char *name) { return SSL_set_tlsext_host_name(s, name); }
static inline int copenssl_bio_pending(BIO *b) { return (int)BIO_pending(b); }
static inline int copenssl_bio_set_mem_eof_return(BIO *b, int v) { return (int)BIO_set_mem_eof_return(b, v); }
static inline void copenssl_ssl_ctx_set_alpn_http1(SSL_CTX *ctx) { (void)ctx; }
// TLS module: macros and option bits that Swift cannot import.
static inline long copenssl_ssl_ctx_add1_chain_cert(SSL_CTX *ctx, X509 *x) { return SSL_CTX_add1_chain_cert(ctx, x); }
static inline uint64_t copenssl_op_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline uint64_t copenssl_op_cipher_server_preference(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline uint64_t copenssl_op_no_compression(void) { return SSL_OP_NO_COMPRESSION; }
static inline void copenssl_free(void *p) { OPENSSL_free(p); }
static inline int copenssl_mbstring_utf8(void) { return MBSTRING_UTF8; }
static inline int copenssl_err_is_pem_no_start_line(unsigned long e) { return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE; }
#endif
