//! What an account may do: a renter rents, an operator runs the platform. Stored as its
//! name; every check is on this type, never on a string.

/// An account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// An operator: the fleet, every account, the catalog, the audit log.
    Admin,
    /// A renter: their own containers, images and money.
    User,
}

impl Role {
    /// The name the store keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
        }
    }

    /// The role a stored name names; an unknown name is a renter's (it grants nothing).
    pub fn from_stored(name: &str) -> Self {
        match name {
            "admin" => Self::Admin,
            _ => Self::User,
        }
    }

    pub fn is_admin(self) -> bool {
        self == Self::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn a_role_keeps_its_name_and_nothing_else_is_an_operator() {
        for role in [Role::Admin, Role::User] {
            assert_eq!(Role::from_stored(role.as_str()), role);
        }
        assert_eq!(Role::from_stored("Admin"), Role::User);
        assert_eq!(Role::from_stored(""), Role::User);
    }
}
