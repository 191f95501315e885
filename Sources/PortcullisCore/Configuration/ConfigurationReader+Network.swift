/// `network`: greenlists and the tenant greenlist.
extension ConfigurationReader {
    func readNetwork(_ value: ConfigValue) -> NetworkConfiguration? {
        guard let map = value.mapping(keys: ["greenlists", "tenant_greenlist"]) else { return nil }
        var greenlists: [String: Greenlist] = [:]
        var ok = true
        if let lists = map["greenlists"], let named = lists.mapping(keys: []) {
            for name in named.order {
                guard let entries = named.children[name] else { continue }
                guard Self.isName(name) else {
                    entries.problem("expected a list name of letters, digits, - and _")
                    ok = false
                    continue
                }
                guard let items = entries.list(readGreenlistEntry) else {
                    ok = false
                    continue
                }
                greenlists[name] = Greenlist(name: name, entries: items)
            }
        } else if map["greenlists"] != nil {
            ok = false
        }
        var tenant: String?
        if let entry = map["tenant_greenlist"] {
            if let name = entry.string("a greenlist name") {
                if !Self.declaredGreenlists(value).contains(name) {
                    entry.problem("names greenlist \"\(name)\", which is not declared under network.greenlists")
                    ok = false
                } else if greenlists[name] == nil {
                    // Declared, but its own problems were reported where they are.
                    ok = false
                } else {
                    tenant = name
                }
            } else {
                ok = false
            }
        }
        return ok && problemsFree(under: value.path) ? NetworkConfiguration(greenlists: greenlists, tenantGreenlist: tenant) : nil
    }

    /// The names under `network.greenlists`, whether or not their entries are valid (the
    /// problems of a list are reported at the list, once).
    static func declaredGreenlists(_ network: ConfigValue) -> Set<String> {
        guard case .mapping(let sections, _) = network.node,
              case .mapping(let named, _)? = sections.first(where: { $0.key == "greenlists" })?.value
        else { return [] }
        return Set(named.map(\.key))
    }

    func readGreenlistEntry(_ value: ConfigValue) -> Greenlist.Entry? {
        guard let map = value.mapping(keys: ["cidr", "label"]) else { return nil }
        let range = map.required("cidr", "a CIDR range such as 198.51.100.0/24").flatMap(readRange)
        let label = map["label"].map { $0.string("a label") } ?? ""
        guard let range, let label else { return nil }
        return Greenlist.Entry(range: range, label: label)
    }

    func readRange(_ value: ConfigValue) -> IPRange? {
        guard let text = value.string("a CIDR range such as 198.51.100.0/24") else { return nil }
        do {
            return try IPRange(parsing: text)
        } catch {
            value.problem(error.description)
            return nil
        }
    }
}
