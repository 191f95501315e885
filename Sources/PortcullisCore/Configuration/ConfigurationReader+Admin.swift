/// `admin`: MFA and a recent sign-in for the admin API and console.
extension ConfigurationReader {
    func readAdmin(_ value: ConfigValue) -> AdminConfiguration? {
        guard let map = value.mapping(keys: ["require_mfa", "max_auth_age"]) else { return nil }
        let requireMFA = map["require_mfa"].map { $0.bool() } ?? false
        let maxAuthAge = map["max_auth_age"].map { $0.duration(within: .seconds(60) ... .seconds(30 * 86_400)) }
        guard let requireMFA else { return nil }
        if case .some(.none) = maxAuthAge { return nil }
        return AdminConfiguration(requireMFA: requireMFA, maxAuthAge: maxAuthAge ?? nil)
    }
}
