extension ConfigurationReader {
    static let sessionRiskKeys = ["enabled", "history", "max_speed_kmh", "action", "webhook"]

    /// `sessions.risk`: every key checked, every problem reported with its key path.
    func readSessionRisk(_ value: ConfigValue) -> SessionRiskConfiguration? {
        guard let map = value.mapping(keys: Self.sessionRiskKeys) else { return nil }
        let defaults = SessionRiskPolicy()
        let enabled = map["enabled"].map { $0.bool() } ?? true
        let history = map["history"].map { $0.duration(within: .seconds(3_600) ... .seconds(400 * 86_400)) } ?? defaults.historyWindow
        let speed = map["max_speed_kmh"].map { $0.integer(in: 10 ... 100_000) } ?? Int(defaults.maxSpeedKmh)
        let actions = map["action"].map(readRiskActions) ?? [:]
        let webhook = map["webhook"].map(readRiskWebhook)
        guard let enabled, let history, let speed, let actions else { return nil }
        if case .some(.none) = webhook { return nil }
        return SessionRiskConfiguration(
            enabled: enabled,
            policy: SessionRiskPolicy(historyWindow: history, maxSpeedKmh: Double(speed), actions: actions),
            webhook: webhook ?? nil
        )
    }

    /// `sessions.risk.action`: `new_country: step_up`, … (`flag` for kinds not named).
    func readRiskActions(_ value: ConfigValue) -> [SessionRiskKind: SessionRiskAction]? {
        guard let map = value.mapping(keys: SessionRiskKind.allCases.map(\.rawValue)) else { return nil }
        var actions: [SessionRiskKind: SessionRiskAction] = [:]
        var ok = true
        for kind in SessionRiskKind.allCases {
            guard let entry = map[kind.rawValue] else { continue }
            guard let text = entry.string(), let action = SessionRiskAction(rawValue: text) else {
                entry.expected(SessionRiskAction.allCases.map(\.rawValue).joined(separator: ", "))
                ok = false
                continue
            }
            actions[kind] = action
        }
        return ok ? actions : nil
    }

    func readRiskWebhook(_ value: ConfigValue) -> SessionRiskWebhook? {
        guard let map = value.mapping(keys: ["url", "secret_file", "secret_env", "ca_file"]) else { return nil }
        let url = map.required("url", "the https:// URL to POST flags to").flatMap(readWebhookURL)
        let secret = readSecret(map, fileKey: "secret_file", envKey: "secret_env", what: "the HMAC-SHA256 key the body is signed with")
        let caFile = map["ca_file"].map { requiredFile($0) }
        if caFile != nil, let url, url.hasPrefix("http://") {
            map["ca_file"]?.problem("ca_file needs an https:// url")
        }
        guard let url, let secret else { return nil }
        if case .some(.none) = caFile { return nil }
        return SessionRiskWebhook(url: url, secret: secret, caFile: caFile ?? nil)
    }

    /// `https://host[:port][/path][?query]`, or `http://` to a loopback address.
    func readWebhookURL(_ value: ConfigValue) -> String? {
        let what = "an https:// URL such as \"https://alerts.example.com/portcullis\""
        guard let text = value.string(what) else { return nil }
        let origin = Self.originPart(of: text)
        let rest = text.dropFirst(origin.count)
        guard text.utf8.count <= 2_048, !text.contains(where: { $0.isWhitespace || $0.isNewline }), !text.contains("#"),
              rest.isEmpty || rest.hasPrefix("/"), let upstream = Upstream(parsing: origin)
        else {
            value.expected(what + " (no user information or fragment)")
            return nil
        }
        let isLoopback = upstream.host == "localhost" || (try? IPAddress(parsing: upstream.host)).map {
            $0 == IPAddress(ipv4: 127, 0, 0, 1) || $0 == IPAddress(ipv6: 1)
        } == true
        guard upstream.scheme == .https || isLoopback else {
            value.expected(what + " (plain http is only for a receiver on this machine)")
            return nil
        }
        return text
    }
}
