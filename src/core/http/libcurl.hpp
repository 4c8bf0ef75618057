// libcurl, loaded with dlopen when the first HTTP call needs it instead of at start-up. Debian's
// libcurl brings ~35 shared libraries (RTMP with GnuTLS, LDAP, Kerberos, SSH...) whose dynamic linking
// cost every kurator run ~6 ms, also those that never talk HTTP (version, completion, --help, usage
// errors). Git keeps libcurl out of its main binary for the same reason. Types and constants come from
// <curl/curl.h> as usual; only calls go through this table. Private to the http module.
#pragma once
#include <curl/curl.h>

namespace kurator::http::detail {

struct Libcurl {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_reset) easy_reset;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_perform) easy_perform;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_share_init) share_init;
  decltype(&::curl_share_setopt) share_setopt;
  decltype(&::curl_share_cleanup) share_cleanup;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  decltype(&::curl_getdate) getdate;
};

// The loaded library (libcurl.so.4, the soname since 2006), initialised with curl_global_init once.
// Throws FatalError naming the library and the package to install when it cannot be loaded.
const Libcurl& libcurl();

}  // namespace kurator::http::detail
