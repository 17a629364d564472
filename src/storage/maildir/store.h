// One user's Maildir tree (Maildir++ or LAYOUT=fs): maps IMAP mailbox names to
// directories, lists, creates, deletes and renames folders, keeps subscriptions, and
// opens folders as MaildirMailbox objects.
#pragma once

#include "storage/mail_store.h"
#include "storage/mail_types.h"
#include "storage/maildir/location.h"
#include "storage/maildir/mailbox.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::storage {

class MaildirStore : public MailStore {
public:
    // location is mail_location after % and ~ expansion, with or without "maildir:",
    // e.g. "/home/a/Maildir" or "/home/a/Maildir:LAYOUT=fs:INBOX=/x". separator is the
    // namespace's IMAP hierarchy separator. Mailbox names in this API are UTF-8.
    explicit MaildirStore(std::string location, char separator = '/', maildir::MailboxOptions options = {});

    char separator() const override { return separator_; }
    const maildir::MaildirLocation& location() const { return location_; }

    // Special-use attributes from the namespace's `mailbox NAME { special_use = ... }`
    // blocks; list() reports them for mailboxes that exist (Dovecot does not invent them).
    void set_special_use(std::map<std::string, std::string> by_name) override { special_use_ = std::move(by_name); }

    // Maildir++ quota (quota = maildir:...): maildirsize in the control root is created
    // with the current totals when missing, then every save and expunge logs its delta.
    void set_quota(std::optional<QuotaLimits> limits) override { quota_ = limits; }
    // Parses a quota_rule value ("*:storage=100M:messages=1000"; a bare number is kB).
    static QuotaLimits parse_quota_rule(std::string_view rule);
    std::vector<MailboxListEntry> list() const override;
    bool exists(std::string_view mailbox) const override;
    void create(std::string_view mailbox) override;
    void remove(std::string_view mailbox) override;
    // Keeps UIDVALIDITY and UIDs (the directory moves with its dovecot-uidlist); children move too.
    void rename(std::string_view from, std::string_view to) override;

    std::vector<std::string> subscriptions() const override;
    void subscribe(std::string_view mailbox, bool subscribed = true) override;

    std::unique_ptr<MaildirMailbox> open(std::string_view mailbox, bool read_only);
    // Opens, syncs and summarises (read-only, so \Recent is not consumed).
    MailboxStatus status(std::string_view mailbox) override;

    // Where a mailbox lives; throws BadName for names this layout cannot store.
    maildir::MailboxPaths paths_for(std::string_view mailbox) const;

protected:
    std::unique_ptr<Mailbox> open_mailbox(std::string_view mailbox, bool read_only) override
    {
        return open(mailbox, read_only);
    }

private:
    bool is_inbox(std::string_view mailbox) const;
    // Storage name components (mUTF-7 unless :UTF-8) of a non-INBOX mailbox.
    std::vector<std::string> storage_components(std::string_view mailbox) const;
    std::string relative_dir(const std::vector<std::string>& components) const;
    std::string display_name(const std::vector<std::string>& components) const;
    std::string control_root() const;
    std::string subscriptions_path() const;
    void create_maildir(const maildir::MailboxPaths& paths) const;
    void collect_fs(const std::string& dir, std::vector<std::string>& prefix, int depth,
                    std::vector<std::pair<std::vector<std::string>, bool>>& out) const;

    maildir::MaildirLocation location_;
    char separator_;
    maildir::MailboxOptions options_;
    std::map<std::string, std::string> special_use_;
    std::optional<QuotaLimits> quota_;
    void ensure_quota_file();
};

}  // namespace loft::storage
