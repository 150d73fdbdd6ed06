#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>

namespace cxp::persistence {

/// Keeps storage faults of a SQLite database from killing the process.
///
/// In WAL mode every connection maps the `-shm` file (the wal-index) and writes through that
/// mapping, on reads too (read marks). When the file stops being writable underneath (made
/// immutable, its file system remounted read-only) the kernel answers such a write with SIGBUS,
/// which kills the process without a log line; SQLite never sees an error it could return. So:
/// - `fault()` is asked before each use of a connection: when the database, WAL or shared-memory
///   file is not writable it names the file, and the caller refuses the call
///   (`database_unavailable`) without touching SQLite. The appearance and the end of a fault are
///   logged once each.
/// - `install_shm_fault_rescue()` covers a fault that appears while a call is in flight: a SIGBUS
///   on a page of a `-shm` mapping replaces that page by a private copy, so the write completes
///   in memory and the call ends with SQLite's own I/O error. From then on this process's view of
///   the wal-index is no longer shared with other processes, so `fault()` reports the database
///   unusable until the process restarts (SQLite rebuilds the wal-index from the files then).
///   Any other SIGBUS keeps its default action.
class sqlite_files {
public:
  explicit sqlite_files(std::string path) : path_(std::move(path)) {}

  /// Why the database cannot be used safely right now, or nullopt.
  std::optional<std::string> fault();

private:
  std::string path_;
  std::mutex mutex_;
  std::string reported_; ///< the fault last logged (empty: none)
};

/// Installs the SIGBUS handler described above, once per process.
void install_shm_fault_rescue();

/// Whether the handler has replaced a page of a `-shm` mapping in this process.
bool shm_fault_rescued();

} // namespace cxp::persistence
