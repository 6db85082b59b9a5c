#pragma once
/// The kinds built into the daemon, in documentation order (docs/MANIFEST.md): the one list a
/// new built-in kind joins (docs/ADDING_A_KIND.md explains why a list, not static registrars).
#include <span>

namespace backfilld::migrations {

class Kind;

/// Every built-in kind's row, in documentation order.
std::span<const Kind* const> builtin_kinds();

}  // namespace backfilld::migrations
