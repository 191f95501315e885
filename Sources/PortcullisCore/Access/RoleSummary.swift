/// One line per role on what it grants, for the console's role editor and group mappings.
/// Derived from ``PermissionMatrix`` (and the assignment rules), never written by hand, so it
/// cannot drift from what the gateway enforces.
public enum RoleSummary {
    /// A primary role: what it adds to the role below it.
    ///
    /// `admin` → "What a Setup Admin may do, and: moderate answers, collections, go links and
    /// pins; manage announcements, teams, …; view the audit log."
    public static func line(for role: PrimaryRole) -> String {
        guard let lower = PrimaryRole.allCases.last(where: { $0 < role }) else {
            let own = PermissionMatrix.permissions(of: role, defaults: noDefaults).sorted
            let switchable = DefaultMemberPermissions.switchable
            return "The default role: " + sentence(own.map(\.phrase))
                + "; the default member permissions decide whether they may also " + sentence(switchable.map(\.phrase)) + "."
        }
        // What the role always holds that the lower one does not hold even with every switch on.
        let below = PermissionMatrix.permissions(of: lower, defaults: .allOn)
        let held = PermissionMatrix.permissions(of: role, defaults: noDefaults)
        let gained = held.sorted.filter { !below.contains($0) }
        var line = "What \(article(lower.displayName)) \(lower.displayName) may do, and: " + sentence(collapsed(gained, held: held, below: below)) + "."
        if role == .superAdmin {
            let reserved = [PrimaryRole.superAdmin.displayName] + SecondaryRole.allCases.filter(\.isSuperAdminOnly).map(\.displayName)
            line += " Only a Super Admin may assign " + list(reserved) + "."
        }
        return line
    }

    /// A secondary role: the permissions it grants to anyone who holds it.
    public static func line(for role: SecondaryRole) -> String {
        let granted = PermissionMatrix.permissions(granting: role).sorted
        var line = "Lets them " + sentence(granted.map(\.phrase)) + "."
        if role.isSuperAdminOnly {
            line += " Only a Super Admin may assign it."
        }
        return line
    }

    private static let noDefaults = DefaultMemberPermissions(
        answersCreate: false, collectionsCreate: false, pinsCreatePublic: false, goLinksCreate: false, appsActionsCreate: false
    )

    /// An area the role gains whole (two or more permissions, none held below) reads as
    /// "manage AREA"; anything else as its own phrase.
    private static func collapsed(_ gained: [Permission], held: PermissionSet, below: PermissionSet) -> [PermissionPhrase] {
        var phrases: [PermissionPhrase] = []
        var done: Set<String> = []
        for permission in gained where !done.contains(permission.area) {
            let area = Permission.allCases.filter { $0.area == permission.area }
            let wholeArea = area.count >= 2 && area.allSatisfy { held.contains($0) && !below.contains($0) }
            if wholeArea {
                phrases.append(PermissionPhrase("manage", permission.areaName))
                done.insert(permission.area)
            } else {
                phrases.append(permission.phrase)
            }
        }
        return phrases
    }

    /// Phrases joined by verb, verbs in order of first appearance: "view content, create
    /// private pins and edit their own team page"; once a verb has several objects, groups are
    /// set apart with semicolons: "moderate answers and pins; create agents and API tokens".
    static func sentence(_ phrases: [PermissionPhrase]) -> String {
        var verbs: [String] = []
        var objects: [String: [String]] = [:]
        for phrase in phrases {
            if objects[phrase.verb] == nil { verbs.append(phrase.verb) }
            if objects[phrase.verb, default: []].contains(phrase.object) { continue }
            objects[phrase.verb, default: []].append(phrase.object)
        }
        let groups = verbs.map { "\($0) " + list(objects[$0] ?? []) }
        let severalObjects = verbs.contains { (objects[$0]?.count ?? 0) > 1 }
        return severalObjects ? groups.joined(separator: "; ") : list(groups)
    }

    /// "a, b and c".
    static func list(_ items: [String]) -> String {
        guard let last = items.last else { return "" }
        guard items.count > 1 else { return last }
        return items.dropLast().joined(separator: ", ") + " and " + last
    }

    private static func article(_ word: String) -> String {
        guard let first = word.lowercased().first else { return "a" }
        return "aeiou".contains(first) ? "an" : "a"
    }
}
