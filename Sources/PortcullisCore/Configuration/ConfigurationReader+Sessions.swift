/// `sessions`: lifetimes and staleness (and `sessions.risk`, in `+SessionRisk`).
extension ConfigurationReader {
    func readSessions(_ value: ConfigValue) -> SessionConfiguration? {
        guard let map = value.mapping(keys: ["idle_timeout", "absolute_timeout", "max_staleness", "risk"]) else { return nil }
        let defaults = SessionConfiguration()
        let idle = map["idle_timeout"].map { $0.duration(within: .seconds(60) ... .seconds(30 * 86_400)) } ?? defaults.idleTimeout
        let absolute = map["absolute_timeout"].map { $0.duration(within: .seconds(60) ... .seconds(90 * 86_400)) }
            ?? defaults.absoluteTimeout
        let staleness = map["max_staleness"].map { $0.duration(within: .zero ... SessionConfiguration.stalenessCeiling) }
            ?? defaults.maxStaleness
        let risk = map["risk"].map(readSessionRisk) ?? defaults.risk
        guard let idle, let absolute, let staleness, let risk else { return nil }
        if idle > absolute {
            map["idle_timeout"]?.problem("idle_timeout (\(DurationText.format(idle))) must not exceed absolute_timeout (\(DurationText.format(absolute)))")
            return nil
        }
        return SessionConfiguration(idleTimeout: idle, absoluteTimeout: absolute, maxStaleness: staleness, risk: risk)
    }
}
