// Flags shared by the commands that use the artifact store (tool, bundle).
#pragma once
#include <kurator/core/artifacts.hpp>

#include <CLI/CLI.hpp>

namespace kurator::cli {
// --mirror, --ca-file, --catalog, --offline; with `fetch_flags` also --sha256 and --allow-unverified.
void add_artifact_flags(CLI::App* cmd, artifacts::StoreFlags& f, bool fetch_flags);
}  // namespace kurator::cli
