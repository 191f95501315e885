/// `conf/dev-users.yaml`: the users, departments and groups of the development identity
/// provider that `portcullis dev` runs, and the client it accepts. Development only.
public struct DevIdentityDirectory: Sendable {
    public struct User: Hashable, Sendable {
        public var email: String
        public var name: String
        public var department: String?
        public var groups: [String]
        public var password: String
        /// Sign-ins of this user report a second factor (`amr` includes `otp`).
        public var mfa: Bool
        /// The IdP's stable subject for the user.
        public var subject: String

        public init(email: String, name: String, department: String?, groups: [String], password: String, mfa: Bool, subject: String) {
            self.email = email
            self.name = name
            self.department = department
            self.groups = groups
            self.password = password
            self.mfa = mfa
            self.subject = subject
        }
    }

    public struct Client: Hashable, Sendable {
        public var clientID: String
        public var secret: SecretSource
        public var redirectURIs: [String]
        public var backchannelLogoutURI: String?

        public init(clientID: String, secret: SecretSource, redirectURIs: [String], backchannelLogoutURI: String?) {
            self.clientID = clientID
            self.secret = secret
            self.redirectURIs = redirectURIs
            self.backchannelLogoutURI = backchannelLogoutURI
        }
    }

    public var issuer: String
    public var listen: ListenAddress
    public var client: Client
    public var users: [User]
    /// The audience of the access tokens it issues (usable as bearer JWTs).
    public var accessTokenAudience: String

    public init(issuer: String, listen: ListenAddress, client: Client, users: [User], accessTokenAudience: String) {
        self.issuer = issuer
        self.listen = listen
        self.client = client
        self.users = users
        self.accessTokenAudience = accessTokenAudience
    }

    public static func decode(_ root: ConfigNode, file: String, environment: ConfigEnvironment) -> Result<DevIdentityDirectory, ConfigurationError> {
        let problems = ConfigProblemCollector(file: file)
        let reader = ConfigurationReader(problems: problems, directory: ConfigPaths.directory(of: file), environment: environment)
        let document = ConfigValue(node: root, path: "", problems: problems)
        let directory = reader.readDevDirectory(document)
        if let directory, problems.problems.isEmpty { return .success(directory) }
        return .failure(ConfigurationError(problems: problems.problems))
    }
}

extension ConfigurationReader {
    func readDevDirectory(_ value: ConfigValue) -> DevIdentityDirectory? {
        guard let map = value.mapping(keys: ["issuer", "listen", "access_token_audience", "client", "users"]) else { return nil }
        let issuer = map.required("issuer", "the provider's https URL").flatMap(readIssuer)
        let listen = map.required("listen", "host:port on loopback").flatMap { value -> ListenAddress? in
            guard let address = readListen(value) else { return nil }
            guard ["127.0.0.1", "::1", "localhost"].contains(address.host) else {
                value.problem("the development identity provider listens on loopback only, not \(address.host)")
                return nil
            }
            return address
        }
        let audience = map["access_token_audience"].map { $0.nonEmptyString() } ?? "portcullis-api"
        let client = map.required("client", "client_id, client_secret_file or _env, redirect_uris").flatMap { value -> DevIdentityDirectory.Client? in
            guard let client = value.mapping(keys: ["client_id", "client_secret_file", "client_secret_env", "redirect_uris", "backchannel_logout_uri"])
            else { return nil }
            let id = client.required("client_id", "the client id").flatMap { $0.nonEmptyString() }
            let secret = readSecret(client, fileKey: "client_secret_file", envKey: "client_secret_env", what: "the client secret")
            let uris = client.required("redirect_uris", "a list of redirect URIs").flatMap { $0.list { $0.nonEmptyString() } }
            let backchannel = client["backchannel_logout_uri"].map { $0.nonEmptyString() }
            guard let id, let secret, let uris else { return nil }
            if case .some(.none) = backchannel { return nil }
            return DevIdentityDirectory.Client(clientID: id, secret: secret, redirectURIs: uris, backchannelLogoutURI: backchannel ?? nil)
        }
        let users = map.required("users", "a list of users").flatMap { list in
            list.list { item -> DevIdentityDirectory.User? in
                guard let user = item.mapping(keys: ["email", "name", "department", "groups", "password", "mfa", "subject"]) else { return nil }
                let email = user.required("email", "an email address").flatMap { value -> String? in
                    guard let text = value.nonEmptyString(), text.contains("@") else {
                        value.expected("an email address")
                        return nil
                    }
                    return text
                }
                let name = user.required("name", "a display name").flatMap { $0.nonEmptyString() }
                let department = user["department"].map { $0.nonEmptyString() }
                let groups = user["groups"].map { $0.list { $0.nonEmptyString() } } ?? []
                let password = user.required("password", "the development password").flatMap { $0.nonEmptyString() }
                let mfa = user["mfa"].map { $0.bool() } ?? false
                let subject = user["subject"].map { $0.nonEmptyString() }
                guard let email, let name, let groups, let password, let mfa else { return nil }
                if case .some(.none) = department { return nil }
                if case .some(.none) = subject { return nil }
                return DevIdentityDirectory.User(
                    email: email, name: name, department: department ?? nil, groups: groups, password: password, mfa: mfa,
                    subject: (subject ?? nil) ?? "dev-" + email.lowercased()
                )
            }
        }
        guard let issuer, let listen, let audience, let client, let users else { return nil }
        if users.isEmpty {
            map.problem("users: expected at least one user")
            return nil
        }
        return DevIdentityDirectory(issuer: issuer, listen: listen, client: client, users: users, accessTokenAudience: audience)
    }
}
