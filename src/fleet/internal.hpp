// Pieces both fleet modes share: parallel work per member, per-member progress lines, applying with
// change detection, removal in reverse dependency order, reachability probes.
#pragma once
#include <kurator/core/kube.hpp>
#include <kurator/fleet/fleet.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

namespace kurator::fleet::detail {

using Clock = std::chrono::steady_clock;

// An ostream that writes every whole line to stderr (or `out`) as "<prefix>: <line>", one line at a
// time under a process-wide lock, so the progress of members waited for in parallel does not interleave
// within lines.
class PrefixedStream : public std::ostream {
 public:
  PrefixedStream(std::string prefix, std::ostream* out = nullptr);
  ~PrefixedStream() override;

 private:
  class Buf : public std::streambuf {
   public:
    Buf(std::string prefix, std::ostream* out) : m_prefix(std::move(prefix)), m_out(out) {}
    ~Buf() override;

   protected:
    int overflow(int c) override;
    std::streamsize xsputn(const char* s, std::streamsize n) override;
    int sync() override;

   private:
    void emit();
    std::string m_prefix, m_line;
    std::ostream* m_out;
  };
  Buf m_buf;
};

// Writes one line to stderr under the same lock PrefixedStream uses.
void progress_line(const std::string& line);

// Runs fn(i) for every i in [0, n), each on its own thread (the calling thread takes the first).
void parallel_for(size_t n, const std::function<void(size_t)>& fn);

// "Deployment/ns/name" for an object or an apiVersion/kind/namespace/name.
std::string key_of(const json& obj);

// Objects of a namespaced kind without metadata.namespace get "default" (scope from a CRD of the same
// list, else discovery). Errors name an object whose kind the apiserver does not know.
Status fill_namespaces(kube::Client& client, std::vector<json>& objs);
// Whether the object is namespaced, given fill_namespaces ran: it carries a namespace.
inline bool is_namespaced(const json& obj) {
  return obj.contains("metadata") && obj["metadata"].contains("namespace") &&
         obj["metadata"]["namespace"].is_string() && !obj["metadata"]["namespace"].get<std::string>().empty();
}

// Server-side applies `objs` in dependency order (kube::apply_all) and reports which ones the apiserver
// changed: created, or a resourceVersion that moved across the apply.
Result<AppliedStep> apply_and_report(kube::Client& client, const std::string& target, std::vector<json> objs,
                                     std::chrono::milliseconds crd_timeout);

// Deletes `objs` from `client` (Background propagation), one dependency level at a time in reverse
// order (webhooks first, namespaces last), each level waited for until gone before the next.
// `before_level(rank_index)` runs ahead of each level (Karmada mode uses it to wait on members).
// Returns what was deleted/absent; objects still there at the deadline are listed in `left`.
struct RemoveOutcome {
  size_t deleted = 0, absent = 0;
  std::vector<std::string> left;  // "Namespace/volcano-system (Terminating: …)"
  std::vector<std::string> errors;
};
// Issues the DELETEs of `objs` concurrently; `present` receives which ones existed.
RemoveOutcome delete_objects(kube::Client& client, const std::vector<json>& objs, std::vector<bool>* present);
// Waits until every object of `objs` is gone from `client` (polling), at most until `deadline`; returns
// the ones still there with a short reason (e.g. a Namespace's NamespaceContentRemaining message). With a
// `where` (a cluster's name), a wait longer than a few seconds says every 5 s what it still waits for there.
std::vector<std::string> wait_gone(kube::Client& client, const std::vector<json>& objs,
                                   Clock::time_point deadline, const std::string& where = "");
// Both, level by level in reverse dependency order.
RemoveOutcome remove_in_order(kube::Client& client, const std::vector<json>& objs, Clock::time_point deadline,
                              const std::string& where = "");

// Empty when the apiserver of `cfg` answers GET /version within about `timeout`; otherwise why not.
std::string probe(const kubeconfig::RestConfig& cfg, std::chrono::milliseconds timeout);

// The workload's objects for one member: its overrides applied (direct mode, dry-run plans).
Result<std::vector<json>> objects_for(const Workload& w, const std::string& member);

// Combines per-member wait outcomes: ok when all are; else one error naming each failed member, with the
// most serious exit code (interrupted > timeout > failure).
Status combine(const std::vector<std::string>& names, const std::vector<Status>& results);

std::unique_ptr<Fleet> make_direct(std::vector<Member> members);
Result<std::unique_ptr<Fleet>> open_karmada(const Selection& sel);

}  // namespace kurator::fleet::detail
