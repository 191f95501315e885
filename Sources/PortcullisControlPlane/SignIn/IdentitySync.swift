import Foundation
import Logging
import PortcullisCore
import PortcullisTokens

/// Refreshes one user's groups and claims from the provider with their refresh token (SPEC §2):
/// the background refresh and "sync now" both come here. A refresh the provider refuses with
/// `invalid_grant` means the user is gone there: their sessions end (`idp_session_ended`).
package final class IdentitySync: Sendable {
    package struct Settings: Sendable {
        package var oidc: OIDCConfiguration
        package var clientSecret: String
        package var groupSource: GroupSourcePolicy

        package init(oidc: OIDCConfiguration, clientSecret: String, groupSource: GroupSourcePolicy) {
            self.oidc = oidc
            self.clientSecret = clientSecret
            self.groupSource = groupSource
        }
    }

    /// What a sync did.
    package enum Outcome: Hashable, Sendable {
        /// The group names before and after (every source).
        case synced(before: [String], after: [String])
        /// The provider refused the refresh token: this many sessions ended.
        case ended(sessions: Int)
    }

    package struct Failure: Error, CustomStringConvertible, Sendable {
        package enum Code: String, Sendable {
            /// No refresh token is kept for the user (they have not signed in since, or the
            /// provider issues none: ask for `offline_access`).
            case noRefreshToken = "no_refresh_token"
            case unknownUser = "not_found"
            /// The provider could not be asked; nothing changed.
            case providerUnavailable = "idp_unreachable"
        }

        package let code: Code
        package let detail: String
        package var description: String { "\(code.rawValue): \(detail)" }
    }

    let store: any IdentityGrantStore & DirectoryStore & AuditStore
    let turns = PerKeyTurns()
    let sessions: SessionService
    let provider: OIDCProviderClient
    let verifier: TokenVerifier
    let claims: ProviderClaims
    let sealer: RefreshTokenSealer
    let settings: Settings
    let logger: Logger
    let now: @Sendable () -> Date

    package init(
        store: any IdentityGrantStore & DirectoryStore & AuditStore, sessions: SessionService, provider: OIDCProviderClient, verifier: TokenVerifier, sealer: RefreshTokenSealer,
        settings: Settings, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.sessions = sessions
        self.provider = provider
        self.verifier = verifier
        self.claims = ProviderClaims(provider: provider, verifier: verifier, oidc: settings.oidc)
        self.sealer = sealer
        self.settings = settings
        self.logger = logger
        self.now = now
    }

    /// Keeps the refresh token of a sign-in, sealed.
    package func keep(refreshToken: String, userID: String) async throws {
        guard let sealed = sealer.seal(refreshToken, userID: userID) else { return }
        try await store.saveRefreshToken(userID: userID, sealed: sealed, at: now())
    }

    /// Refreshes the user now. `audit` names who asked ("sync now") or `idp` (the background job).
    /// One refresh per user at a time on this instance: a provider that rotates refresh tokens
    /// refuses the second use of one, and that refusal must not end the user's sessions.
    package func sync(userID: String, audit: AuditContext, alwaysAudit: Bool) async throws -> Outcome {
        await turns.acquire(userID)
        defer { turns.release(userID) }
        return try await syncAlone(userID: userID, audit: audit, alwaysAudit: alwaysAudit)
    }

    private func syncAlone(userID: String, audit: AuditContext, alwaysAudit: Bool) async throws -> Outcome {
        guard let user = try await store.user(id: userID), let subject = user.subject else {
            throw Failure(code: .unknownUser, detail: "no user \(userID) who signed in through SSO")
        }
        guard let stored = try await store.refreshToken(userID: userID) else {
            throw Failure(code: .noRefreshToken, detail: "no refresh token is kept for \(user.email)")
        }
        guard let refreshToken = sealer.open(stored.sealed, userID: userID) else {
            // A changed key opens no kept token: refreshes stop until each user signs in again.
            logger.error("a kept refresh token does not open with identity.oidc.refresh_token_key; it is dropped", metadata: [
                "user": "\(user.email)",
            ])
            try await store.deleteRefreshToken(userID: userID)
            throw Failure(code: .noRefreshToken, detail: "the kept refresh token does not open with the configured key")
        }
        let at = now()
        let tokens: OIDCTokenResponse
        do {
            tokens = try await provider.refresh(refreshToken: refreshToken, clientID: settings.oidc.clientID, clientSecret: settings.clientSecret)
        } catch let failure as OIDCProviderClient.Failure where failure.invalidGrant {
            // Another instance, or a sign-in, may have used and replaced the token meanwhile:
            // then the refusal says nothing about the user.
            if try await store.refreshToken(userID: userID)?.sealed != stored.sealed {
                throw Failure(code: .providerUnavailable, detail: "the refresh token was replaced while it was used; nothing changed")
            }
            try await store.deleteRefreshToken(userID: userID)
            let ended = try await sessions.signOutEverywhere(
                userID: userID, includeAPITokens: false, reason: "idp_session_ended",
                audit: AuditContext(actor: "idp", actorIsSuperAdmin: false, sourceIP: audit.sourceIP, at: at)
            )
            logger.notice("the identity provider refused a refresh: the user's sessions ended", metadata: [
                "user": "\(user.email)", "sessions": "\(ended.sessions.count)",
            ])
            return .ended(sessions: ended.sessions.count)
        } catch {
            // Try again at the next interval, not at every tick.
            try? await store.saveRefreshToken(userID: userID, sealed: stored.sealed, at: at)
            throw Failure(code: .providerUnavailable, detail: "\(error)")
        }
        // Keep the new token, unless a sign-in kept a newer one meanwhile.
        if let sealed = sealer.seal(tokens.refreshToken ?? refreshToken, userID: userID),
           try await store.refreshToken(userID: userID)?.sealed == stored.sealed {
            try await store.saveRefreshToken(userID: userID, sealed: sealed, at: at)
        }
        var stated: [String: JSONValue] = ["sub": .string(subject)]
        if let idToken = tokens.idToken {
            let validator = TokenClaimsValidator(
                issuer: settings.oidc.issuer, audiences: [settings.oidc.clientID], authorizedParty: settings.oidc.clientID,
                clockSkew: settings.oidc.clockSkew.secondsValue
            )
            do {
                stated = try await verifier.verify(idToken, validator: validator, now: at)
            } catch {
                throw Failure(code: .providerUnavailable, detail: "the refreshed ID token could not be verified: \(error)")
            }
            guard TokenClaims.subject(stated) == subject else {
                throw Failure(code: .providerUnavailable, detail: "the refreshed ID token names another subject")
            }
        }
        let merged: [String: JSONValue]
        do {
            merged = try await claims.merged(stated, accessToken: tokens.accessToken, now: at)
        } catch {
            throw Failure(code: .providerUnavailable, detail: "\(error)")
        }
        let names = settings.oidc.claims
        let groups = settings.groupSource == .scim ? nil : merged[names.groups]?.stringList.map { $0.prefix(1_000).map { String($0.prefix(256)) } }
        guard let change = try await store.refreshDirectoryProfile(
            userID: userID, name: merged[names.name]?.stringValue.map { String($0.prefix(200)) },
            department: merged[names.department]?.stringValue.map { String($0.prefix(200)) }, groups: groups, at: at
        ) else {
            throw Failure(code: .unknownUser, detail: "the user vanished")
        }
        if change.before != change.after {
            // Roles may have changed: every cached identity here is read again (the store tells
            // other instances).
            sessions.cache.policyDidChange()
        }
        if alwaysAudit || change.before != change.after {
            try await store.appendAudit(AuditEvent(
                audit, action: .groupsSynced, target: user.email,
                before: .array(change.before.map(JSONValue.string)), after: .array(change.after.map(JSONValue.string))
            ))
        }
        return .synced(before: change.before, after: change.after)
    }
}
