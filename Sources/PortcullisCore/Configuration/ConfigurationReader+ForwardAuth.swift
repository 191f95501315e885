/// `forward_auth`: what proxies in front may tell the gateway.
extension ConfigurationReader {
    func readForwardAuth(_ value: ConfigValue) -> ForwardAuthConfiguration? {
        guard let map = value.mapping(keys: ["original_url_header"]) else { return nil }
        let header = map["original_url_header"].map { value -> ForwardAuthConfiguration.OriginalURLHeader? in
            let choices = ForwardAuthConfiguration.OriginalURLHeader.allCases
            guard let text = value.string(),
                  let header = choices.first(where: { $0.rawValue.lowercased() == text.lowercased() })
            else {
                value.expected(choices.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                    + " (the one header the proxy in front sets to the original request)")
                return nil
            }
            return header
        } ?? .originalURI
        guard let header else { return nil }
        return ForwardAuthConfiguration(originalURLHeader: header)
    }
}
