import Foundation
import Hummingbird
import Logging
import PortcullisCore

extension AdminAPI {
    static let maximumGreenlistEntries = 10_000

    /// `GET /greenlists`: configured lists (read-only here) and stored ones, and which is the
    /// tenant-wide list.
    @Sendable func listGreenlists(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        try await dependencies.network.reload(from: store)
        let configuration = dependencies.runtime.configuration
        let stored = dependencies.network.storedGreenlists
        let tenant = dependencies.runtime.policy.tenantGreenlist
        var lists: [AdminAPIModels.GreenlistBody] = configuration.network.greenlists.values.map {
            AdminAPIModels.GreenlistBody(name: $0.name, source: "config", tenant: $0.name == tenant, entries: $0.entries)
        }
        for list in stored.values where configuration.network.greenlists[list.name] == nil {
            lists.append(AdminAPIModels.GreenlistBody(name: list.name, source: "store", tenant: list.name == tenant, entries: list.entries))
        }
        lists.sort { ($0.name ?? "") < ($1.name ?? "") }
        return Self.json(AdminAPIModels.GreenlistList(
            greenlists: lists, tenantGreenlist: tenant,
            tenantGreenlistSource: configuration.network.tenantGreenlist != nil ? "config" : (tenant != nil ? "store" : nil)
        ))
    }

    /// `PUT /greenlists/{name} {entries: [{cidr, label}], force}`. A change to the tenant-wide
    /// list that would shut out the admin making it is refused unless forced.
    @Sendable func putGreenlist(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let name = try Self.greenlistName(try Self.parameter("name", context))
        let configuration = dependencies.runtime.configuration
        guard configuration.network.greenlists[name] == nil else {
            throw AdminAPIError.conflict("greenlist_read_only", "greenlist \(name) is declared in \(configuration.file); change it there")
        }
        let body = try await decode(AdminAPIModels.GreenlistBody.self, from: request)
        guard body.entries.count <= Self.maximumGreenlistEntries else {
            throw AdminAPIError.badRequest("a greenlist holds at most \(Self.maximumGreenlistEntries) entries", reason: "too_many_entries")
        }
        let list = Greenlist(name: name, entries: body.entries)
        let isTenant = dependencies.runtime.policy.tenantGreenlist == name
        if isTenant, body.force != true, !list.contains(actor.address) {
            throw AdminAPIError.conflict("would_lock_out_self",
                                         "\(actor.address) (your address) is not in the new list; send force: true to apply it anyway")
        }
        try await store.putGreenlist(list, audit: actor.audit(at: dependencies.now()))
        try await networkChanged()
        logger.notice("greenlist changed", metadata: ["actor": "\(actor.email)", "greenlist": "\(name)", "entries": "\(list.entries.count)",
                                                      "forced": "\(body.force == true)"])
        return Self.json(AdminAPIModels.GreenlistBody(name: name, source: "store", tenant: isTenant, entries: list.entries))
    }

    /// `DELETE /greenlists/{name}`: a stored list. Deleting the tenant-wide list lifts the
    /// tenant-wide restriction.
    @Sendable func deleteGreenlist(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let name = try Self.parameter("name", context)
        let configuration = dependencies.runtime.configuration
        guard configuration.network.greenlists[name] == nil else {
            throw AdminAPIError.conflict("greenlist_read_only", "greenlist \(name) is declared in \(configuration.file); change it there")
        }
        guard try await store.deleteGreenlist(named: name, audit: actor.audit(at: dependencies.now())) else {
            throw AdminAPIError.notFound("greenlist \(name)")
        }
        try await networkChanged()
        logger.notice("greenlist deleted", metadata: ["actor": "\(actor.email)", "greenlist": "\(name)"])
        return Self.json(["deleted": name])
    }

    /// `PUT /settings/tenant-greenlist {greenlist, force}`: every request must then come from
    /// that list. `null` lifts it. Refused when the configuration file sets it, and when it
    /// would shut out the admin making the change (unless forced).
    @Sendable func changeTenantGreenlist(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let configuration = dependencies.runtime.configuration
        if let configured = configuration.network.tenantGreenlist {
            throw AdminAPIError.conflict("tenant_greenlist_read_only",
                                         "the tenant greenlist is set to \(configured) in \(configuration.file); change it there")
        }
        let body = try await decode(AdminAPIModels.TenantGreenlistRequest.self, from: request)
        if let name = body.greenlist {
            try await dependencies.network.reload(from: store)
            guard let list = configuration.network.greenlists[name] ?? dependencies.network.storedGreenlists[name] else {
                throw AdminAPIError.notFound("greenlist \(name)")
            }
            if body.force != true, !list.contains(actor.address) {
                throw AdminAPIError.conflict("would_lock_out_self",
                                             "\(actor.address) (your address) is not in \(name); send force: true to apply it anyway")
            }
        }
        try await store.setTenantGreenlist(body.greenlist, audit: actor.audit(at: dependencies.now()))
        try await networkChanged()
        logger.notice("tenant greenlist changed", metadata: ["actor": "\(actor.email)", "greenlist": "\(body.greenlist ?? "none")"])
        return Self.json(["tenant_greenlist": body.greenlist])
    }

    /// `POST /ip-policy/test {ip, user, route}`: would this address be let in, by which rule,
    /// and where is it?
    @Sendable func testIPPolicy(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let body = try await decode(AdminAPIModels.IPTestRequest.self, from: request)
        let address: IPAddress
        do {
            address = try IPAddress(parsing: body.ip)
        } catch {
            throw AdminAPIError.badRequest("\(error)", reason: "invalid_ip")
        }
        let policy = dependencies.runtime.policy
        if let route = body.route, policy.routes.route(named: route) == nil {
            throw AdminAPIError.notFound("route \(route)")
        }
        var user: AuthenticatedUser?
        if let email = body.user {
            guard let assumed = try await IPPolicyInquiry.assumedUser(email: email, store: store) else {
                throw AdminAPIError.notFound("teammate \(email)")
            }
            user = assumed
        }
        return Self.json(policy.test(address: address, route: body.route, user: user, now: dependencies.now()))
    }

    /// `POST /ip-policy/dry-run {greenlist: {entries}}`: the active sessions and the admins a
    /// proposed tenant-wide list would cut off, and whether it would cut off the caller.
    @Sendable func dryRunGreenlist(_ request: Request, _ context: ControlPlaneRequestContext, _ actor: Actor) async throws -> Response {
        let body = try await decode(AdminAPIModels.DryRunRequest.self, from: request)
        guard body.greenlist.entries.count <= Self.maximumGreenlistEntries else {
            throw AdminAPIError.badRequest("a greenlist holds at most \(Self.maximumGreenlistEntries) entries", reason: "too_many_entries")
        }
        let list = Greenlist(name: body.greenlist.name ?? "proposed", entries: body.greenlist.entries)
        return Self.json(try await IPPolicyInquiry.dryRun(
            list, store: store, idleTimeout: dependencies.runtime.configuration.sessions.idleTimeout,
            now: dependencies.now(), from: actor.address
        ))
    }

    /// Greenlist names are short identifiers.
    static func greenlistName(_ name: String) throws(AdminAPIError) -> String {
        guard name.utf8.count <= 64, name.utf8.allSatisfy({ $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else {
            throw .badRequest("a greenlist name is 1 to 64 letters, digits, - or _", reason: "invalid_name")
        }
        return name
    }

    /// Re-reads the stored lists, rebuilds this instance's policy and tells the others.
    func networkChanged() async throws {
        try await dependencies.network.reload(from: store)
        try dependencies.refreshPolicy()
        await dependencies.broadcast(.network)
    }
}

extension UInt8 {
    var isASCIILetterOrDigit: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
