#include "storage/search/thread.h"

#include "lib/strings.h"
#include "storage/search/base_subject.h"
#include "storage/search/sort.h"

#include <algorithm>
#include <unordered_map>

namespace loft::storage::search {
namespace {

constexpr uint32_t kNone = UINT32_MAX;

std::string strip_blanks(std::string_view text)
{
    std::string out;
    for (char c : text)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            out += c;
    return out;
}

// --- ORDEREDSUBJECT ---

std::string ordered_subject(MessageSet& messages, const std::vector<uint32_t>& sequences, bool uids)
{
    std::vector<uint32_t> sorted =
        sort_messages(messages, {{SortKey::Subject, false}, {SortKey::Date, false}}, sequences);
    struct Thread {
        int64_t timestamp = 0;
        std::vector<uint32_t> members;
    };
    std::vector<Thread> threads;
    std::string previous;
    for (uint32_t seq : sorted) {
        MessageView& message = messages.view(seq);
        auto subject = message.first_header("Subject");
        std::string base = base_subject(subject ? *subject : std::string_view()).text;
        if (threads.empty() || base != previous)
            threads.push_back({sort_date(message), {}});
        previous = std::move(base);
        threads.back().members.push_back(uids ? message.info().uid : seq);
    }
    std::stable_sort(threads.begin(), threads.end(), [](const Thread& a, const Thread& b) {
        if (a.timestamp != b.timestamp)
            return a.timestamp < b.timestamp;
        return a.members.front() < b.members.front();
    });
    std::string out;
    for (const auto& thread : threads) {
        const auto& m = thread.members;
        if (m.size() == 1) {
            out += "(" + std::to_string(m[0]) + ")";
        } else if (m.size() == 2) {
            out += "(" + std::to_string(m[0]) + " " + std::to_string(m[1]) + ")";
        } else {
            out += "(" + std::to_string(m[0]) + " ";
            for (size_t i = 1; i < m.size(); ++i)
                out += "(" + std::to_string(m[i]) + ")";
            out += ")";
        }
    }
    return out;
}

// --- REFERENCES / REFS ---

// Message-ID graph node: a message (seq != 0) or a referenced id never seen (dummy).
struct Node {
    uint32_t seq = 0;
    uint32_t parent = kNone;
};

class ThreadBuilder {
public:
    ThreadBuilder(MessageSet& messages, bool uids) : messages_(messages), uids_(uids) {}

    void add(uint32_t seq)
    {
        MessageView& message = messages_.view(seq);
        uint32_t self = kNone;
        if (auto value = message.first_header("Message-ID")) {
            auto ids = extract_message_ids(*value, 1);
            if (!ids.empty())
                self = node_for(ids.front());
        }
        if (self == kNone || nodes_[self].seq != 0)
            self = new_node();  // no usable Message-ID, or a duplicate: the first one keeps it
        nodes_[self].seq = seq;

        std::vector<std::string> refs;
        if (auto value = message.first_header("References"))
            refs = extract_message_ids(*value);
        if (refs.empty())
            if (auto value = message.first_header("In-Reply-To"))
                refs = extract_message_ids(*value, 1);
        uint32_t parent = kNone;
        for (const auto& ref : refs) {
            uint32_t node = node_for(ref);
            if (parent != kNone)
                link(parent, node);
            parent = node;
        }
        if (nodes_[self].parent != parent && nodes_[self].parent != kNone)
            nodes_[self].parent = kNone;  // this message's own references win
        if (parent != kNone)
            link(parent, self);
    }

    std::string finish(ThreadAlgorithm algorithm)
    {
        build_shadows();
        if (algorithm == ThreadAlgorithm::References) {
            sort_roots();
            gather_subjects();
            if (merge_subjects())
                sort_roots();
        } else {
            sort_roots_by_latest();
        }
        std::string out;
        for (const auto& root : roots_) {
            if (root.ignore)
                continue;
            const auto& kids = children(root.node);
            if (root.dummy && kids.empty())
                continue;
            if (kids.empty()) {
                out += "(" + number(root.node) + ")";
            } else {
                out += "(";
                if (!root.dummy)
                    out += number(root.node) + " ";
                write_children(root.node, out, 0);
                out += ")";
            }
        }
        return out;
    }

private:
    struct Root {
        uint32_t node = 0;      // node (or synthetic dummy) index
        bool dummy = false;
        bool ignore = false;
        bool reply_or_forward = false;
        int64_t sort_date = 0;
        uint32_t sort_seq = 0;  // the message deciding the order (the first child of a dummy)
        size_t parent_root = 0; // 1-based index into roots_, 0 = none
    };

    uint32_t new_node()
    {
        nodes_.push_back(Node{});
        if (!shadow_children_.empty())
            shadow_children_.resize(nodes_.size());  // children() must never reallocate later
        return static_cast<uint32_t>(nodes_.size() - 1);
    }

    uint32_t node_for(const std::string& id)
    {
        auto [it, inserted] = ids_.try_emplace(id, 0);
        if (inserted)
            it->second = new_node();
        return it->second;
    }

    bool has_ancestor(uint32_t node, uint32_t ancestor) const
    {
        size_t steps = 0;
        while (node != ancestor) {
            if (nodes_[node].parent == kNone || ++steps > nodes_.size())
                return false;
            node = nodes_[node].parent;
        }
        return true;
    }

    void link(uint32_t parent, uint32_t child)
    {
        if (has_ancestor(parent, child))
            return;  // would make a loop (or is the node itself)
        if (nodes_[child].parent == kNone)
            nodes_[child].parent = parent;  // a conflicting earlier parent is kept
    }

    int64_t date_of(uint32_t seq) { return sort_date(messages_.view(seq)); }
    std::string number(uint32_t node)
    {
        uint32_t seq = nodes_[node].seq;
        return std::to_string(uids_ ? messages_.uid(seq) : seq);
    }

    std::vector<uint32_t>& children(uint32_t node)
    {
        if (node >= shadow_children_.size())
            shadow_children_.resize(node + 1);
        return shadow_children_[node];
    }

    // Children ordered by (sent date, uid), the order Dovecot writes and compares them in.
    std::vector<uint32_t> sorted_children(uint32_t node)
    {
        std::vector<uint32_t> kids = children(node);
        std::stable_sort(kids.begin(), kids.end(), [&](uint32_t a, uint32_t b) {
            int64_t da = date_of(nodes_[a].seq), db = date_of(nodes_[b].seq);
            if (da != db)
                return da < db;
            return nodes_[a].seq < nodes_[b].seq;
        });
        return kids;
    }

    // Roots, and every message attached to its nearest existing ancestor (dummies in the
    // middle of a chain disappear).
    void build_shadows()
    {
        shadow_children_.assign(nodes_.size(), {});
        for (uint32_t i = 0; i < nodes_.size(); ++i) {
            const Node& node = nodes_[i];
            if (node.parent == kNone) {
                Root root;
                root.node = i;
                root.dummy = node.seq == 0;
                roots_.push_back(root);
                continue;
            }
            if (node.seq == 0)
                continue;
            uint32_t parent = node.parent;
            while (nodes_[parent].seq == 0 && nodes_[parent].parent != kNone)
                parent = nodes_[parent].parent;
            children(parent).push_back(i);
        }
    }

    void sort_roots()
    {
        for (auto& root : roots_) {
            if (root.ignore)
                continue;
            if (root.dummy) {
                auto kids = sorted_children(root.node);
                if (kids.empty()) {
                    root.ignore = true;
                    continue;
                }
                if (kids.size() == 1) {
                    root.node = kids.front();  // a dummy with one child: the child is the root
                    root.dummy = false;
                } else {
                    root.sort_seq = nodes_[kids.front()].seq;
                    root.sort_date = date_of(root.sort_seq);
                    continue;
                }
            }
            root.sort_seq = nodes_[root.node].seq;
            root.sort_date = date_of(root.sort_seq);
        }
        sort_by_date();
    }

    void sort_roots_by_latest()
    {
        for (auto& root : roots_) {
            root.sort_date = 0;
            root.sort_seq = root.dummy ? 0 : nodes_[root.node].seq;
        }
        std::unordered_map<uint32_t, size_t> root_of_node;
        for (size_t i = 0; i < roots_.size(); ++i)
            root_of_node[roots_[i].node] = i;
        for (uint32_t i = 0; i < nodes_.size(); ++i) {
            if (nodes_[i].seq == 0)
                continue;
            uint32_t top = i;
            while (nodes_[top].parent != kNone)
                top = nodes_[top].parent;
            Root& root = roots_[root_of_node.at(top)];
            root.sort_date = std::max(root.sort_date, date_of(nodes_[i].seq));
        }
        sort_by_date();
    }

    void sort_by_date()
    {
        std::stable_sort(roots_.begin(), roots_.end(), [](const Root& a, const Root& b) {
            if (a.sort_date != b.sort_date)
                return a.sort_date < b.sort_date;
            return a.sort_seq < b.sort_seq;
        });
    }

    // RFC 5256 step 5(B): roots sharing a base subject are recorded for merging.
    void gather_subjects()
    {
        std::unordered_map<std::string, size_t> table;  // base subject -> 1-based root index
        for (size_t i = 0; i < roots_.size(); ++i) {
            Root& root = roots_[i];
            uint32_t node;
            if (!root.dummy)
                node = root.node;
            else if (!root.ignore)
                node = sorted_children(root.node).front();
            else
                continue;
            auto subject = messages_.view(nodes_[node].seq).first_header("Subject");
            if (!subject)
                continue;
            BaseSubject base = base_subject(*subject);
            if (base.text.empty())
                continue;
            auto [it, inserted] = table.try_emplace(base.text, i + 1);
            if (!inserted) {
                Root& held = roots_[it->second - 1];
                if (!held.dummy && (root.dummy || (held.reply_or_forward && !base.reply_or_forward))) {
                    held.parent_root = i + 1;
                    it->second = i + 1;
                } else {
                    root.parent_root = it->second;
                }
            }
            root.reply_or_forward = base.reply_or_forward;
        }
    }

    bool merge_subjects()
    {
        bool changed = false;
        size_t count = roots_.size();
        for (size_t i = 0; i < count; ++i) {
            if (roots_[i].parent_root == 0 || roots_[i].ignore)
                continue;
            changed = true;
            size_t top = i;
            for (size_t steps = 0; roots_[top].parent_root != 0 && steps <= roots_.size(); ++steps)
                top = roots_[top].parent_root - 1;
            Root& cur = roots_[i];
            Root& held = roots_[top];
            if (cur.dummy) {
                // Both dummies: the children become siblings under the held one.
                auto& moved = children(cur.node);
                auto& target = children(held.node);
                target.insert(target.end(), moved.begin(), moved.end());
                moved.clear();
                cur.ignore = true;
            } else if (held.dummy || (cur.reply_or_forward && !held.reply_or_forward)) {
                children(held.node).push_back(cur.node);
                cur.ignore = true;
            } else {
                Root dummy;
                dummy.node = new_node();
                dummy.dummy = true;
                children(dummy.node).push_back(held.node);
                children(dummy.node).push_back(cur.node);
                held.parent_root = roots_.size() + 1;
                held.ignore = true;
                cur.ignore = true;
                roots_.push_back(dummy);  // invalidates cur and held
            }
        }
        return changed;
    }

    void write_children(uint32_t parent, std::string& out, size_t depth)
    {
        if (depth > 10000)
            throw SearchError("thread tree too deep");
        std::vector<uint32_t> kids = sorted_children(parent);
        if (kids.size() == 1) {
            out += number(kids.front());
            if (!children(kids.front()).empty()) {
                out += ' ';
                write_children(kids.front(), out, depth + 1);
            }
            return;
        }
        for (uint32_t kid : kids) {
            if (children(kid).empty()) {
                out += "(" + number(kid) + ")";
            } else {
                out += "(" + number(kid) + " ";
                write_children(kid, out, depth + 1);
                out += ")";
            }
        }
    }

    MessageSet& messages_;
    bool uids_;
    std::vector<Node> nodes_;
    std::unordered_map<std::string, uint32_t> ids_;
    std::vector<std::vector<uint32_t>> shadow_children_;
    std::vector<Root> roots_;
};

}  // namespace

std::optional<ThreadAlgorithm> parse_thread_algorithm(std::string_view name)
{
    if (iequals(name, "ORDEREDSUBJECT"))
        return ThreadAlgorithm::OrderedSubject;
    if (iequals(name, "REFERENCES"))
        return ThreadAlgorithm::References;
    if (iequals(name, "REFS"))
        return ThreadAlgorithm::Refs;
    return std::nullopt;
}

std::vector<std::string> extract_message_ids(std::string_view value, size_t max_ids)
{
    std::vector<std::string> ids;
    size_t pos = 0;
    while (ids.size() < max_ids) {
        size_t open = value.find('<', pos);
        if (open == std::string_view::npos)
            break;
        size_t close = value.find('>', open + 1);
        if (close == std::string_view::npos)
            break;
        std::string_view inside = value.substr(open + 1, close - open - 1);
        pos = close + 1;
        if (inside.find('@') == std::string_view::npos)
            continue;
        std::string id = strip_blanks(inside);
        ids.push_back(std::move(id));
    }
    return ids;
}

std::string thread_messages(MessageSet& messages, ThreadAlgorithm algorithm,
                            const std::vector<uint32_t>& sequences, bool uids)
{
    if (algorithm == ThreadAlgorithm::OrderedSubject)
        return ordered_subject(messages, sequences, uids);
    ThreadBuilder builder(messages, uids);
    std::vector<uint32_t> ordered = sequences;
    std::sort(ordered.begin(), ordered.end());
    for (uint32_t seq : ordered)
        builder.add(seq);
    return builder.finish(algorithm);
}

}  // namespace loft::storage::search
