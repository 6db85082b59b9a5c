#include "migrations/kinds/builtin_kinds.hpp"

#include <array>

#include "migrations/kinds/backfill_field.hpp"
#include "migrations/kinds/copy_container.hpp"
#include "migrations/kinds/encrypt_fields.hpp"
#include "migrations/kinds/rekey.hpp"
#include "migrations/kinds/remap_enum.hpp"
#include "migrations/kinds/remove_field.hpp"
#include "migrations/kinds/rename_field.hpp"
#include "migrations/kinds/verify.hpp"

namespace backfilld::migrations {

std::span<const Kind* const> builtin_kinds() {
  // Named here, each kind's object file is linked from the static library: a registrar object
  // that nothing references would be dropped by the linker.
  static const std::array<const Kind*, 8> kKinds = {
      &encrypt_fields_kind(), &backfill_field_kind(), &rename_field_kind(), &remove_field_kind(),
      &remap_enum_kind(),     &copy_container_kind(), &rekey_kind(),        &verify_kind(),
  };
  return kKinds;
}

}  // namespace backfilld::migrations
