// The columns of ls, info and fuser, and what each shows of an object or holder.
#pragma once

#include <string>
#include <vector>

#include "liveness.hpp"
#include "objects.hpp"
#include "output.hpp"
#include "proc_scan.hpp"

namespace ipcshm_cli {

// Object columns: lsipc's names where the concept is the same.
enum ObjectColumn : size_t {
  kColKind, kColId, kColKey, kColShmid, kColOwner, kColPerms, kColUid, kColUser, kColGid,
  kColGroup, kColCuid, kColCuser, kColCgid, kColCgroup, kColSize, kColNattch, kColStatus,
  kColVolatile, kColCtime, kColMtime, kColAttach, kColDetach, kColCpid, kColLpid,
  kColCommand, kColHolders, kColHidden, kColSlotSize, kColSlots, kColQueued, kColSender,
  kColReceiver,
};
const std::vector<ColumnSpec>& object_columns();

// ls's columns without -o: lsipc's choice plus KIND, HOLDERS; -c, -t and -C add.
std::vector<size_t> default_object_columns(const OutputOptions& opts);
// info's: those that mean something for the object's kind.
std::vector<size_t> info_columns(const Object& o);

// What the cells need besides the object: the options, the lock table, and
// the holder scan (needed only for HOLDERS and HIDDEN).
struct CellContext {
  const OutputOptions& opts;
  const LockTable& locks;
  const HolderScan* scan;
};
bool needs_holder_scan(const std::vector<size_t>& columns);
Value object_cell(size_t column, const Object& o, const CellContext& ctx);

// fuser's columns: one row per holder of an object.
enum HolderColumn : size_t { kHolId, kHolPid, kHolUser, kHolAccess, kHolCommand };
const std::vector<ColumnSpec>& holder_columns();
std::vector<size_t> default_holder_columns();
Value holder_cell(size_t column, const Object& o, const Holder& h);

// The scan over the objects to be shown: their POSIX files, System V segments.
HolderScan scan_for(const std::vector<Object>& objects, const LockTable& locks);

// Notes on stderr when holders may be missing from what was printed.
void note_hidden(const std::vector<Object>& objects, const HolderScan& scan);

}  // namespace ipcshm_cli
