// clusterctl's variable processor (cmd/clusterctl/client/yamlprocessor/simple_processor.go over
// drone/envsubst): `${VAR}` expressions in upstream release YAML and cluster templates, nothing else.
// Only `${...}` expands (`$VAR` and `$(VAR)` are left as they are; `$$` is a literal `$`). The forms are
// drone/envsubst's: `${V}`, `${V:=d}`, `${V:-d}`, `${V=d}` (default when the value is empty; unset counts
// as empty), `${#V}`, `${V^}`, `${V^^}`, `${V,}`, `${V,,}`, `${V:pos}`, `${V:pos:len}`, `${V#p}`, `${V##p}`,
// `${V%p}`, `${V%%p}`, `${V/p/r}`, `${V//p/r}`, `${V/#p/r}`, `${V/%p/r}`. Used where upstream itself uses
// these variables (CAPI/CAPA components and templates), never as kurator's own template engine.
//
// Upstream's details, kept: `${V:?d}` and `${V:+d}` also give d when V is empty (not bash's meaning);
// `${V-d}`, `${V+d}`, `${V?d}` and `${}` are errors. A default may hold expressions, `${A:=x${B}}`; it is
// not unescaped (`${V:=$$}` gives `$$`), but `$$`, `\/` and `\\` are escapes in the pattern and replacement
// of `${V/p/r}`, whose pattern runs to the next `/` (a `}` does not end it). Patterns of `#` and `%` are
// globs (`*`, `?`, `[...]`; `*` crosses `/`), those of `/` literal. Lengths and offsets count bytes.
// `${ V }`, `${ V}` and `${V }` are first rewritten to `${V}`. A NUL byte ends the text (drone reads it
// as its end-of-input rune).
#pragma once
#include <kurator/util/result.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurator::envsubst {

// A variable referenced by the text, as clusterctl lists it: each name once, in order of first
// appearance; `has_default` when its first occurrence carries a default (`:=`, `:-`, `=`).
// Precisely (clusterctl's inspectVariables): only top-level expressions count (a variable inside another's
// default is neither listed nor required), and `has_default` means the first occurrence has an argument
// of any kind: so `${V:=}` has none, while `${V:1}`, `${V#p}` and `${V/#p/r}` have one. clusterctl's
// GetVariables returns the names sorted instead: sort them to list them as clusterctl does. A malformed
// expression is an error naming the source and line.
struct Variable {
  std::string name;
  bool has_default = false;
};
Result<std::vector<Variable>> variables(std::string_view text, std::string_view source);

// The value of a variable, or nullopt when it is not set.
using Lookup = std::function<std::optional<std::string>(const std::string& name)>;

// Expands `text` as clusterctl does: every variable without a default must be set, else one error
// naming them all ("<source>: value for variables [A, B] is not set"); unset variables with a default
// take it. A malformed expression (an unclosed `${`) is an error naming the source and line.
// The names in that message are sorted, as clusterctl sorts them. A variable set to "" counts as set
// (and then takes its default, if it has one). `${V:pos:len}` whose end falls before pos is an error
// (clusterctl panics on it).
Result<std::string> substitute(std::string_view text, std::string_view source, const Lookup& lookup);

}  // namespace kurator::envsubst
