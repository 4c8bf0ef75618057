#include "libcurl.hpp"

#include <kurator/util/result.hpp>

#include <dlfcn.h>

#include <string>

namespace kurator::http::detail {
namespace {

template <class F>
void bind(void* lib, F& fn, const char* name) {
  fn = reinterpret_cast<F>(::dlsym(lib, name));
  if (!fn)
    throw FatalError(Error(std::string("libcurl.so.4 has no ") + name, ExitCode::failure,
                           "reinstall the libcurl4 package (apt-get install --reinstall libcurl4)"));
}

Libcurl load() {
  void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    throw FatalError(Error(std::string("cannot load libcurl: ") + (why ? why : "libcurl.so.4 not found"),
                           ExitCode::failure, "install the libcurl4 package (apt-get install libcurl4)"));
  }
  Libcurl c{};
  bind(lib, c.global_init, "curl_global_init");
  bind(lib, c.easy_init, "curl_easy_init");
  bind(lib, c.easy_reset, "curl_easy_reset");
  bind(lib, c.easy_cleanup, "curl_easy_cleanup");
  bind(lib, c.easy_setopt, "curl_easy_setopt");
  bind(lib, c.easy_perform, "curl_easy_perform");
  bind(lib, c.easy_getinfo, "curl_easy_getinfo");
  bind(lib, c.easy_strerror, "curl_easy_strerror");
  bind(lib, c.share_init, "curl_share_init");
  bind(lib, c.share_setopt, "curl_share_setopt");
  bind(lib, c.share_cleanup, "curl_share_cleanup");
  bind(lib, c.slist_append, "curl_slist_append");
  bind(lib, c.slist_free_all, "curl_slist_free_all");
  bind(lib, c.getdate, "curl_getdate");
  c.global_init(CURL_GLOBAL_DEFAULT);
  return c;  // the library stays loaded for the life of the process
}

}  // namespace

const Libcurl& libcurl() {
  static const Libcurl c = load();  // thread-safe, once
  return c;
}

}  // namespace kurator::http::detail
