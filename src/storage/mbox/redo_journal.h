// Crash safety for in-place mbox writes: the bytes a change will write (and the file's
// new size) are first stored durably in a journal beside the mbox, so a writer killed
// halfway through moving messages is finished by the next one, never left torn.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loft::storage::mbox {

struct FilePatch {
    uint64_t offset = 0;
    std::string data;
};

// Everything needed to bring the file from its old content to its new one; applying it
// again (after a crash in the middle) gives the same result.
struct RedoRecord {
    dev_t dev = 0;
    ino_t ino = 0;
    uint64_t old_size = 0;
    uint64_t new_size = 0;
    // prefix_fingerprint() of the bytes before the first patch, which the change never
    // writes: if they differ at recovery, someone else (Dovecot) has rewritten the file
    // since, and replaying the record would undo their work.
    uint64_t guard = 0;
    std::vector<FilePatch> patches;

    uint64_t first_offset() const;
};

// A checksum of the start of the file and of the 64 kB before `end` (cheap, not all of it).
uint64_t prefix_fingerprint(int fd, uint64_t end, const std::string& file_name);

// Writes the record to a temporary file, fsyncs it and renames it to `path` (then fsyncs
// the directory), so `path` holds either nothing or the whole record.
void write_redo_journal(const std::string& path, const std::string& temp_path, const RedoRecord& record);

// The record at path; nullopt if there is none or it is incomplete or damaged (then it
// was never acted upon: the file was untouched). Throws StorageError(Limit) beyond max_size.
std::optional<RedoRecord> read_redo_journal(const std::string& path, uint64_t max_size);

// True if the record belongs to this file (device, inode) and its guard still matches.
bool redo_applies(int fd, const struct stat& st, const RedoRecord& record, const std::string& file_name);

// Writes the patches, sets the size to new_size and, if durable, fdatasyncs (a journal
// may only be removed after that). Bytes beyond max(old_size, new_size), which someone
// appended after a crash, are kept after new_size.
void apply_redo(int fd, const RedoRecord& record, const std::string& file_name, bool durable = true);

// True if writing this patch could be cut in two by a kill (it spans a page boundary).
bool patch_may_tear(const FilePatch& patch);

}  // namespace loft::storage::mbox
