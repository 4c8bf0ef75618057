// Pure formatting helpers of the waiter (src/core/kube/waiter.cpp), declared here for its unit tests;
// not part of the public API.
#pragma once
#include <kurator/core/readiness.hpp>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace kurator::kube::detail {
using json = nlohmann::json;
std::string format_duration(std::chrono::milliseconds d);
std::string state_word(Readiness r);
std::string truncate_display(const std::string& text, size_t width);
std::string progress_line(const std::string& what, size_t what_width, const ReadyState& st,
                          std::chrono::milliseconds elapsed, size_t max_cols, bool color);
std::string format_event(const json& ev, std::chrono::system_clock::time_point now);
std::string timeout_message(std::chrono::milliseconds timeout,
                            const std::vector<std::pair<std::string, ReadyState>>& unready);
}  // namespace kurator::kube::detail
