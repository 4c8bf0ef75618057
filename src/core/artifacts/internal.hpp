// Pieces shared by the artifact layer's sources (not part of its interface).
#pragma once
#include <kurator/core/artifacts.hpp>

#include <nlohmann/json.hpp>

namespace kurator::artifacts::detail {
// One `files` member as the cache metadata and bundle indexes record it: {path, url, sha256} or
// {path, link} (its sha256 is that of the link text). Throws nlohmann::json::exception when `path`, or
// `sha256` of a file, is missing.
FileEntry file_entry_from_json(const nlohmann::json& f);
}  // namespace kurator::artifacts::detail
