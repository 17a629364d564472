#include "mail/address.h"

#include "mail/rfc822_tokens.h"

namespace loft::mail {

namespace {

// Mirrors Dovecot's non-strict-dots address reader: every function keeps its return
// convention (1 more input, 0 end, -1 broken) because the callers branch on it.
class AddressListParser {
public:
    AddressListParser(std::string_view value, size_t max_addresses)
        : reader_(value, &last_comment_), max_addresses_(max_addresses)
    {
        reader_.set_nul_replacement(true);
    }

    std::vector<Address> parse()
    {
        if (reader_.skip_lwsp() > 0)
            parse_address_list();
        return std::move(result_);
    }

private:
    void add_address()
    {
        result_.push_back(std::move(current_));
        current_ = Address();
    }

    void add_fixed_address()
    {
        if (!current_.mailbox) {
            current_.mailbox = "MISSING_MAILBOX";
            current_.invalid_syntax = true;
        }
        if (!current_.domain || current_.domain->empty()) {
            current_.domain = "MISSING_DOMAIN";
            current_.invalid_syntax = true;
        }
        add_address();
    }

    int read_nonstrict_dot_atom(std::string& out)
    {
        int ret = -1;
        do {
            while (reader_.peek() == '.' && !reader_.at_end()) {
                out.push_back('.');
                reader_.advance();
                if (reader_.at_end())
                    return 0;  // local part without @domain
                ret = 1;
            }
            if (reader_.peek() == '@')
                break;
            ret = reader_.read_atom(out);
        } while (ret > 0 && reader_.peek() == '.');
        return ret;
    }

    int parse_local_part()
    {
        work_.clear();
        int ret = reader_.peek() == '"' ? reader_.read_quoted_string(work_)
                                         : read_nonstrict_dot_atom(work_);
        if (ret < 0)
            return -1;
        current_.mailbox = c_string(work_);
        return ret;
    }

    int parse_domain()
    {
        work_.clear();
        int ret = reader_.read_domain(work_);
        if (ret < 0)
            return -1;
        current_.domain = c_string(work_);
        return ret;
    }

    int parse_domain_list()
    {
        work_.clear();
        for (;;) {
            if (reader_.at_end())
                return 0;
            if (reader_.peek() != '@')
                break;
            if (!work_.empty())
                work_.push_back(',');
            work_.push_back('@');
            int ret = reader_.read_domain(work_);
            if (ret <= 0)
                return ret;
            while (reader_.skip_lwsp() > 0 && reader_.peek() == ',')
                reader_.advance();
        }
        current_.route = c_string(work_);
        return 1;
    }

    int parse_angle_addr()
    {
        reader_.advance();  // '<'
        if (reader_.skip_lwsp() <= 0)
            return -1;
        if (reader_.peek() == '@') {
            if (parse_domain_list() > 0 && reader_.peek() == ':') {
                reader_.advance();
            } else {
                current_.route = "INVALID_ROUTE";
                if (reader_.at_end())
                    return -1;
            }
            if (reader_.skip_lwsp() <= 0)
                return -1;
        }
        if (reader_.peek() != '>') {
            if (parse_local_part() <= 0)
                return -1;
            if (reader_.peek() == '@' && parse_domain() <= 0)
                return -1;
        }
        if (reader_.peek() != '>' || reader_.at_end())
            return -1;
        reader_.advance();
        return reader_.skip_lwsp();
    }

    int parse_name_addr()
    {
        work_.clear();
        if (reader_.read_phrase(work_) <= 0 || reader_.peek() != '<')
            return -1;
        std::string name = c_string(work_);
        if (name.empty())
            current_.name.reset();  // "<address>" without a display name
        else
            current_.name = std::move(name);
        if (parse_angle_addr() < 0) {
            current_.domain = "SYNTAX_ERROR";
            current_.invalid_syntax = true;
        }
        return reader_.at_end() ? 0 : 1;
    }

    int parse_addr_spec()
    {
        int ret2 = -2;
        last_comment_.clear();
        bool quoted_string = reader_.peek() == '"';
        int ret = parse_local_part();
        if (ret <= 0)
            current_.invalid_syntax = true;
        if (ret != 0 && !reader_.at_end() && reader_.peek() == '@') {
            ret2 = parse_domain();
            if (ret2 <= 0)
                ret = ret2;
        }
        if (!last_comment_.empty()) {
            current_.name = c_string(last_comment_);
        } else if (ret2 == -2) {
            // A lone "user" is a mailbox, but "user more words" is a display name.
            work_.push_back(' ');
            size_t before = work_.size();
            (void)reader_.read_phrase(work_);
            if (work_.size() != before) {
                current_.mailbox.reset();
                current_.name = c_string(work_);
            } else if (!quoted_string) {
                current_.domain = "";
            }
            current_.invalid_syntax = true;
            ret = -1;
        }
        return ret;
    }

    int parse_mailbox()
    {
        size_t start = reader_.position();
        int ret = parse_name_addr();
        if (ret < 0) {
            reader_.set_position(start);
            ret = parse_addr_spec();
            if (current_.invalid_syntax && !current_.name && current_.mailbox && !current_.domain) {
                current_.name = std::move(current_.mailbox);
                current_.mailbox.reset();
            }
        }
        if (ret < 0)
            current_.invalid_syntax = true;
        add_fixed_address();
        return ret;
    }

    int parse_group()
    {
        work_.clear();
        if (reader_.read_phrase(work_) <= 0 || reader_.peek() != ':')
            return -1;
        // From here on this is a group, even when broken.
        reader_.advance();
        int ret = reader_.skip_lwsp();
        if (ret <= 0)
            current_.invalid_syntax = true;
        current_.mailbox = c_string(work_);
        add_address();

        if (ret > 0 && reader_.peek() != ';') {
            for (;;) {
                if (result_.size() >= max_addresses_)
                    break;
                (void)parse_mailbox();
                if (reader_.at_end() || reader_.peek() != ',')
                    break;
                reader_.advance();
                if (reader_.skip_lwsp() <= 0) {
                    ret = -1;
                    break;
                }
            }
        }
        if (ret >= 0) {
            if (reader_.at_end() || reader_.peek() != ';') {
                ret = -1;
            } else {
                reader_.advance();
                ret = reader_.skip_lwsp();
            }
        }
        if (ret < 0)
            current_.invalid_syntax = true;
        add_address();
        return ret == 0 ? 0 : 1;
    }

    int parse_address()
    {
        size_t start = reader_.position();
        int ret = parse_group();
        if (ret < 0) {
            reader_.set_position(start);
            ret = parse_mailbox();
        }
        return ret;
    }

    void parse_address_list()
    {
        for (size_t count = 0; count < max_addresses_; count++) {
            if (parse_address() == 0)
                break;
            if (reader_.at_end() || reader_.peek() != ',')
                break;
            reader_.advance();
            int ret = reader_.skip_lwsp();
            if (ret <= 0) {
                if (ret < 0)
                    add_fixed_address();  // ends with garbage such as an open comment
                break;
            }
        }
    }

    std::string last_comment_;
    Rfc822Reader reader_;
    size_t max_addresses_;
    std::string work_;
    Address current_;
    std::vector<Address> result_;
};

}  // namespace

std::vector<Address> parse_address_list(std::string_view value, size_t max_addresses)
{
    return AddressListParser(value, max_addresses).parse();
}

}  // namespace loft::mail
