#include "storage/maildir/store.h"

#include "lib/strings.h"
#include "lib/system_error.h"
#include "lib/unique_fd.h"
#include "storage/maildir/dotlock.h"
#include "storage/maildir/filename.h"
#include "storage/maildir/fs_util.h"
#include "storage/maildir/mutf7.h"
#include "storage/maildir/subscriptions.h"
#include "storage/maildir/uidlist.h"
#include "storage/maildir/uidvalidity.h"
#include "storage/storage_error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

namespace loft::storage {

using namespace maildir;

namespace {

constexpr size_t max_mailbox_name_length = 4096;
constexpr size_t max_component_length = 255;
constexpr int max_fs_depth = 64;
constexpr mode_t dir_mode = 0700;

[[noreturn]] void bad_name(std::string_view name, const std::string& why)
{
    throw StorageError(StorageError::Kind::BadName, "Invalid mailbox name '" + std::string(name) + "': " + why);
}

}  // namespace

MaildirStore::MaildirStore(std::string location, char separator, MailboxOptions options)
    : location_(MaildirLocation::parse(location)), separator_(separator), options_(options)
{
    if (separator_ == '\0' || separator_ == '\t' || separator_ == '\n' || separator_ == '&')
        throw StorageError(StorageError::Kind::BadConfig, "Invalid hierarchy separator");
}

bool MaildirStore::is_inbox(std::string_view mailbox) const
{
    return iequals(mailbox, "INBOX");
}

std::vector<std::string> MaildirStore::storage_components(std::string_view mailbox) const
{
    if (mailbox.empty())
        bad_name(mailbox, "empty name");
    if (mailbox.size() > max_mailbox_name_length)
        bad_name(mailbox.substr(0, 64), "name too long");
    std::vector<std::string> components;
    for (std::string part : split(mailbox, separator_)) {
        if (part.empty())
            bad_name(mailbox, "empty hierarchy level");
        if (components.empty() && iequals(part, "INBOX"))
            part = "INBOX";
        if (part == "." || part == "..")
            bad_name(mailbox, "'.' and '..' are not allowed");
        for (char c : part) {
            if (c == '/' || c == '\t' || c == '\n' || c == '\r' || c == '\0')
                bad_name(mailbox, "character not allowed");
            if (!location_.layout_fs && c == '.')
                bad_name(mailbox, "'.' is the Maildir++ separator");
        }
        if (part[0] == '~' && components.empty())
            bad_name(mailbox, "'~' at the start is not allowed");
        std::string encoded = utf8_to_mutf7(part);  // also rejects invalid UTF-8
        std::string stored = location_.utf8 ? part : std::move(encoded);
        if (stored.size() > max_component_length)
            bad_name(mailbox, "hierarchy level too long");
        components.push_back(std::move(stored));
    }
    return components;
}

std::string MaildirStore::relative_dir(const std::vector<std::string>& components) const
{
    std::string relative;
    if (location_.layout_fs) {
        for (const auto& c : components) {
            if (!relative.empty())
                relative += '/';
            relative += c;
        }
    } else {
        for (const auto& c : components)
            relative += "." + c;
    }
    return relative;
}

std::string MaildirStore::display_name(const std::vector<std::string>& components) const
{
    std::string name;
    for (const auto& c : components) {
        if (!name.empty())
            name += separator_;
        if (location_.utf8) {
            name += c;
        } else {
            try {
                name += mutf7_to_utf8(c);
            } catch (const StorageError&) {
                name += c;  // not valid mUTF-7: show it as Dovecot stored it
            }
        }
    }
    return name;
}

std::string MaildirStore::control_root() const
{
    return location_.control.empty() ? location_.root : location_.control;
}

std::string MaildirStore::subscriptions_path() const
{
    return join_path(control_root(), location_.subscriptions_file);
}

MailboxPaths MaildirStore::paths_for(std::string_view mailbox) const
{
    MailboxPaths paths;
    paths.uidvalidity_dir = control_root();
    paths.quota_file = join_path(control_root(), "maildirsize");
    if (is_inbox(mailbox)) {
        paths.name = "INBOX";
        paths.dir = location_.inbox.empty() ? location_.root : location_.inbox;
        // With LAYOUT=fs INBOX is a folder like others: its control and index files go in
        // an INBOX subdirectory, as Dovecot puts them; in Maildir++ it is the root.
        auto below = [&](const std::string& dir) { return location_.layout_fs ? join_path(dir, "INBOX") : dir; };
        paths.control = location_.control.empty() ? paths.dir : below(location_.control);
        paths.index = location_.index.empty() ? paths.control : below(location_.index);
        return paths;
    }
    auto components = storage_components(mailbox);
    paths.name = display_name(components);
    std::string relative = relative_dir(components);
    paths.dir = join_path(location_.root, relative);
    paths.control = location_.control.empty() ? paths.dir : join_path(location_.control, relative);
    paths.index = location_.index.empty() ? paths.control : join_path(location_.index, relative);
    return paths;
}

bool MaildirStore::exists(std::string_view mailbox) const
{
    return is_directory(join_path(paths_for(mailbox).dir, "cur"));
}

static void make_dirs(const std::string& path)
{
    if (path.empty() || is_directory(path))
        return;
    size_t slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0)
        make_dirs(path.substr(0, slash));
    make_dir(path, dir_mode);
}

void MaildirStore::create_maildir(const MailboxPaths& paths) const
{
    make_dirs(paths.dir);
    for (const char* sub : {"tmp", "new", "cur"})
        make_dir(join_path(paths.dir, sub), dir_mode);
    if (!location_.layout_fs) {
        // Dovecot marks Maildir++ folders (and, in practice, the root) for quota tools;
        // with LAYOUT=fs it writes no such file anywhere.
        std::string marker = join_path(paths.dir, "maildirfolder");
        UniqueFd fd(::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        if (!fd)
            throw_errno("open(" + marker + ")");
    }
    make_dirs(paths.control);
    std::string uidlist_path = join_path(paths.control, uidlist_name);
    if (!path_exists(uidlist_path)) {
        Dotlock lock = Dotlock::acquire(uidlist_path);
        if (!path_exists(uidlist_path)) {
            Uidlist list;
            list.header.uidvalidity = next_uidvalidity(paths.uidvalidity_dir);
            list.header.next_uid = 1;
            list.header.guid = generate_mailbox_guid();
            lock.replace_target(format_uidlist(list));
        }
    }
    fsync_dir(paths.dir);
    size_t slash = paths.dir.rfind('/');
    if (slash != std::string::npos && slash > 0)
        fsync_dir(paths.dir.substr(0, slash));
}

void MaildirStore::create(std::string_view mailbox)
{
    bool dir_only = !mailbox.empty() && mailbox.back() == separator_;
    if (dir_only)
        mailbox.remove_suffix(1);
    MailboxPaths paths = paths_for(mailbox);
    if (is_directory(join_path(paths.dir, "cur")))
        throw StorageError(StorageError::Kind::Exists, "Mailbox already exists: " + paths.name);
    // The root Maildir comes first, as with Dovecot; a separate INBOX= directory of
    // LAYOUT=fs only appears when INBOX is used (Dovecot's CREATE INBOX then succeeds).
    bool separate_inbox = location_.layout_fs && !location_.inbox.empty();
    if (!is_inbox(mailbox) && !separate_inbox && !is_directory(join_path(location_.root, "cur")))
        create_maildir(paths_for("INBOX"));
    if (dir_only && location_.layout_fs) {
        make_dirs(paths.dir);
        return;
    }
    create_maildir(paths);
}

void MaildirStore::collect_fs(const std::string& dir, std::vector<std::string>& prefix, int depth,
                              std::vector<std::pair<std::vector<std::string>, bool>>& out) const
{
    if (depth > max_fs_depth)
        return;
    auto names = list_dir(dir);
    if (!names)
        return;
    for (const auto& name : *names) {
        if (name[0] == '.' || name == "cur" || name == "new" || name == "tmp")
            continue;
        std::string path = join_path(dir, name);
        if (!is_directory(path))
            continue;
        prefix.push_back(name);
        out.emplace_back(prefix, is_directory(join_path(path, "cur")));
        collect_fs(path, prefix, depth + 1, out);
        prefix.pop_back();
    }
}

std::vector<MailboxListEntry> MaildirStore::list() const
{
    // storage components -> selectable
    std::vector<std::pair<std::vector<std::string>, bool>> found;
    if (location_.layout_fs) {
        std::vector<std::string> prefix;
        collect_fs(location_.root, prefix, 0, found);
    } else if (auto names = list_dir(location_.root)) {
        for (const auto& name : *names) {
            if (name.size() < 2 || name[0] != '.' || name[1] == '.')
                continue;
            auto components = split(std::string_view(name).substr(1), '.');
            if (std::any_of(components.begin(), components.end(), [](const std::string& c) { return c.empty(); }))
                continue;
            std::string path = join_path(location_.root, name);
            if (!is_directory(path))
                continue;
            found.emplace_back(std::move(components), is_directory(join_path(path, "cur")));
        }
    }

    std::map<std::string, uint32_t> entries;  // display name -> attributes
    entries["INBOX"] = 0;
    for (const auto& [components, selectable] : found) {
        if (components.size() == 1 && iequals(components[0], "INBOX") && !location_.layout_fs)
            continue;
        std::string name = display_name(components);
        auto& attrs = entries[name];
        if (!selectable && !location_.no_noselect)
            attrs = (attrs & ~static_cast<uint32_t>(NonExistent)) | NoSelect;  // a folder, but no mail
        else
            attrs &= ~static_cast<uint32_t>(NoSelect | NonExistent);
        // Parents that have no directory of their own are listed as \Noselect.
        std::vector<std::string> parent(components.begin(), components.end() - 1);
        while (!parent.empty()) {
            std::string parent_name = display_name(parent);
            auto it = entries.find(parent_name);
            if (it == entries.end())
                entries[parent_name] = location_.no_noselect ? NonExistent : (NoSelect | NonExistent);
            parent.pop_back();
        }
    }
    std::vector<MailboxListEntry> result;
    for (const auto& [name, attrs] : entries) {
        if (attrs == NonExistent)
            continue;  // NO-NOSELECT: parents without a folder are not listed
        bool children = false;
        std::string prefix = name + separator_;
        auto it = entries.upper_bound(name);
        for (; it != entries.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
            if (it->second != NonExistent) {
                children = true;
                break;
            }
        }
        // The map sorts '/'-prefixed children after siblings like "A B", so look further.
        if (!children) {
            for (const auto& [other, other_attrs] : entries) {
                if (other.size() > prefix.size() && other.compare(0, prefix.size(), prefix) == 0) {
                    children = true;
                    break;
                }
            }
        }
        MailboxListEntry entry{name, attrs | (children ? HasChildren : HasNoChildren), {}};
        if (!(attrs & NoSelect)) {
            auto use = special_use_.find(name);
            if (use != special_use_.end())
                entry.special_use = use->second;
        }
        result.push_back(std::move(entry));
    }
    std::stable_partition(result.begin(), result.end(),
                          [](const MailboxListEntry& e) { return e.name == "INBOX"; });
    return result;
}

void MaildirStore::remove(std::string_view mailbox)
{
    if (is_inbox(mailbox))
        throw StorageError(StorageError::Kind::NotAllowed, "INBOX can't be deleted.");
    MailboxPaths paths = paths_for(mailbox);
    if (!is_directory(paths.dir))
        throw StorageError(StorageError::Kind::NotFound, "Mailbox doesn't exist: " + paths.name);
    bool selectable = is_directory(join_path(paths.dir, "cur"));
    if (location_.layout_fs) {
        bool has_children = false;
        std::vector<std::pair<std::vector<std::string>, bool>> children;
        std::vector<std::string> prefix;
        collect_fs(paths.dir, prefix, 0, children);
        has_children = !children.empty();
        if (has_children) {
            if (!selectable)
                throw StorageError(StorageError::Kind::NotAllowed, "Mailbox has children, delete them first");
            // Keep the directory for the children; only the mail goes.
            for (const char* sub : {"cur", "new", "tmp"})
                remove_tree(join_path(paths.dir, sub));
            for (const char* file : {uidlist_name, keywords_file_name, "maildirfolder"})
                ::unlink(join_path(paths.control, file).c_str());
            fsync_dir(paths.dir);
            return;
        }
    }
    // Move it out of sight first so a crash never leaves a half-deleted mailbox listed.
    std::string trash = join_path(location_.root, "..loft-deleted." + std::to_string(::getpid()));
    remove_tree(trash);
    if (::rename(paths.dir.c_str(), trash.c_str()) < 0) {
        if (errno == ENOENT)
            throw StorageError(StorageError::Kind::NotFound, "Mailbox doesn't exist: " + paths.name);
        throw_errno("rename(" + paths.dir + ", " + trash + ")");
    }
    fsync_dir(location_.root);
    remove_tree(trash);
    if (paths.control != paths.dir)
        remove_tree(paths.control);
    if (paths.index != paths.control && paths.index != paths.dir)
        remove_tree(paths.index);
}

void MaildirStore::rename(std::string_view from, std::string_view to)
{
    if (is_inbox(to))
        throw StorageError(StorageError::Kind::Exists, "Mailbox already exists: INBOX");
    if (is_inbox(from) && (!location_.layout_fs || location_.inbox.empty())) {
        // The Maildir++ INBOX is the root of every other folder: Dovecot 2.3 refuses
        // (NO [CANNOT]). With LAYOUT=fs it is a folder like any other and moves with its
        // children; a new empty INBOX appears when next opened.
        throw StorageError(StorageError::Kind::BadName, "Renaming INBOX isn't supported");
    }
    MailboxPaths source = paths_for(from);
    MailboxPaths target = paths_for(to);
    if (!is_directory(source.dir))
        throw StorageError(StorageError::Kind::NotFound, "Mailbox doesn't exist: " + source.name);
    if (path_exists(target.dir))
        throw StorageError(StorageError::Kind::Exists, "Mailbox already exists: " + target.name);
    auto source_components = storage_components(from);
    auto target_components = storage_components(to);
    if (target_components.size() > source_components.size() &&
        std::equal(source_components.begin(), source_components.end(), target_components.begin()))
        throw StorageError(StorageError::Kind::NotAllowed, "Can't rename mailbox under its own child");

    // (old dir, new dir) pairs: the mailbox itself and, in Maildir++, each child folder.
    std::vector<std::pair<std::string, std::string>> moves;
    moves.emplace_back(source.dir, target.dir);
    std::vector<std::pair<std::string, std::string>> control_moves;
    if (source.control != source.dir)
        control_moves.emplace_back(source.control, target.control);
    // Loft's index (with the \Recent mark) moves too, as Dovecot's does; it is a cache,
    // so a failure here only costs a rescan.
    std::vector<std::pair<std::string, std::string>> index_moves;
    if (source.index != source.control)
        index_moves.emplace_back(source.index, target.index);
    if (!location_.layout_fs) {
        std::string source_rel = relative_dir(source_components) + ".";
        std::string target_rel = relative_dir(target_components) + ".";
        if (auto names = list_dir(location_.root)) {
            for (const auto& name : *names) {
                if (name.compare(0, source_rel.size(), source_rel) != 0)
                    continue;
                std::string suffix = name.substr(source_rel.size());
                moves.emplace_back(join_path(location_.root, name), join_path(location_.root, target_rel + suffix));
                if (!location_.control.empty())
                    control_moves.emplace_back(join_path(location_.control, name),
                                               join_path(location_.control, target_rel + suffix));
                if (!location_.index.empty())
                    index_moves.emplace_back(join_path(location_.index, name),
                                             join_path(location_.index, target_rel + suffix));
            }
        }
        for (size_t i = 1; i < moves.size(); i++)
            if (path_exists(moves[i].second))
                throw StorageError(StorageError::Kind::Exists, "Mailbox already exists: " + moves[i].second);
    } else {
        size_t slash = target.dir.rfind('/');
        make_dirs(target.dir.substr(0, slash));
        if (!control_moves.empty())
            make_dirs(target.control.substr(0, target.control.rfind('/')));
    }
    for (const auto& [old_dir, new_dir] : moves)
        if (::rename(old_dir.c_str(), new_dir.c_str()) < 0)
            throw_errno("rename(" + old_dir + ", " + new_dir + ")");
    for (const auto& [old_dir, new_dir] : index_moves) {
        if (!path_exists(old_dir) || path_exists(new_dir))
            continue;
        try {
            make_dirs(new_dir.substr(0, new_dir.rfind('/')));
            ::rename(old_dir.c_str(), new_dir.c_str());
        } catch (const std::exception&) {
        }
    }
    for (const auto& [old_dir, new_dir] : control_moves)
        if (path_exists(old_dir) && ::rename(old_dir.c_str(), new_dir.c_str()) < 0)
            throw_errno("rename(" + old_dir + ", " + new_dir + ")");
    fsync_dir(location_.root);
    if (location_.layout_fs) {
        fsync_dir(target.dir.substr(0, target.dir.rfind('/')));
        fsync_dir(source.dir.substr(0, source.dir.rfind('/')));
    }
}

std::vector<std::string> MaildirStore::subscriptions() const
{
    std::vector<std::string> names;
    for (const auto& stored : read_subscriptions(subscriptions_path(), separator_)) {
        std::vector<std::string> components = split(stored, separator_);
        names.push_back(display_name(components));
    }
    return names;
}

void MaildirStore::subscribe(std::string_view mailbox, bool subscribed)
{
    std::string stored;
    if (is_inbox(mailbox)) {
        stored = "INBOX";
    } else {
        auto components = storage_components(mailbox);
        for (const auto& c : components) {
            if (!stored.empty())
                stored += separator_;
            stored += c;
        }
    }
    make_dirs(control_root());
    set_subscribed(subscriptions_path(), separator_, stored, subscribed);
}

QuotaLimits MaildirStore::parse_quota_rule(std::string_view rule)
{
    QuotaLimits limits;
    auto number = [&](std::string_view text, bool storage) -> uint64_t {
        uint64_t value = 0;
        size_t i = 0;
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; i++) {
            if (value > UINT64_MAX / 10 - 10)
                throw StorageError(StorageError::Kind::BadName, "quota_rule value too large");
            value = value * 10 + static_cast<uint64_t>(text[i] - '0');
        }
        if (!storage)
            return value;
        std::string unit = to_upper(text.substr(i));
        uint64_t scale = unit.empty() || unit == "K" || unit == "KB" ? 1024
                         : unit == "B"                                ? 1
                         : unit == "M" || unit == "MB"                ? 1024ULL * 1024
                         : unit == "G" || unit == "GB"                ? 1024ULL * 1024 * 1024
                         : unit == "T" || unit == "TB"                ? 1024ULL * 1024 * 1024 * 1024
                                                                      : 0;
        if (scale == 0)
            throw StorageError(StorageError::Kind::BadName, "quota_rule: unknown unit " + unit);
        if (value > UINT64_MAX / scale)
            throw StorageError(StorageError::Kind::BadName, "quota_rule value too large");
        return value * scale;
    };
    for (const std::string& part : split(rule, ':')) {
        if (part.compare(0, 8, "storage=") == 0)
            limits.storage_bytes = number(std::string_view(part).substr(8), true);
        else if (part.compare(0, 9, "messages=") == 0)
            limits.messages = number(std::string_view(part).substr(9), false);
    }
    return limits;
}

void MaildirStore::ensure_quota_file()
{
    if (!quota_)
        return;
    std::string path = join_path(control_root(), "maildirsize");
    if (path_exists(path))
        return;
    // Dovecot recalculates from the file names' S= sizes of every folder.
    uint64_t bytes = 0, count = 0;
    for (const auto& entry : list()) {
        if (entry.attributes & NoSelect)
            continue;
        MailboxPaths paths = paths_for(entry.name);
        for (const char* sub : {"cur", "new"}) {
            auto names = list_dir(join_path(paths.dir, sub));
            if (!names)
                continue;
            for (const auto& name : *names) {
                if (name.empty() || name[0] == '.')
                    continue;
                MaildirFilename parsed = parse_maildir_filename(name);
                uint64_t size = 0;
                if (parsed.size) {
                    size = *parsed.size;
                } else {
                    struct stat st;
                    if (::stat(join_path(join_path(paths.dir, sub), name).c_str(), &st) < 0)
                        continue;
                    size = static_cast<uint64_t>(st.st_size);
                }
                bytes += size;
                count++;
            }
        }
    }
    std::string header = std::to_string(quota_->storage_bytes) + "S";
    if (quota_->messages)
        header += "," + std::to_string(quota_->messages) + "C";
    std::string text = header + "\n" + std::to_string(bytes) + " " + std::to_string(count) + "\n";
    make_dirs(control_root());
    // Created under a temporary name and linked in: whoever links first wins.
    std::string temp = path + ".loft." + std::to_string(::getpid());
    {
        UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!fd)
            return;  // quota accounting is advisory
        write_all(fd.get(), text, temp);
    }
    (void)::link(temp.c_str(), path.c_str());
    ::unlink(temp.c_str());
}

std::unique_ptr<MaildirMailbox> MaildirStore::open(std::string_view mailbox, bool read_only)
{
    ensure_quota_file();
    MailboxPaths paths = paths_for(mailbox);
    if (!is_directory(join_path(paths.dir, "cur"))) {
        if (!is_inbox(mailbox))
            throw StorageError(StorageError::Kind::NotFound, "Mailbox doesn't exist: " + paths.name);
        create_maildir(paths);  // INBOX always exists, as in Dovecot
    }
    if (paths.index != paths.control) {
        try {
            make_dirs(paths.index);
        } catch (const std::exception&) {
            // Loft's index is a cache: without its directory we just rescan.
        }
    }
    auto box = std::make_unique<MaildirMailbox>(paths, read_only, options_);
    box->sync();
    return box;
}

MailboxStatus MaildirStore::status(std::string_view mailbox)
{
    return open(mailbox, true)->status();
}

}  // namespace loft::storage
