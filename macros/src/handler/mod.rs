//! The typed model every handler macro shares — `#[route]`, `#[scheduled]`, `#[queue]` and
//! `#[durable_object]` are one pipeline with a [`HandlerKind`]:
//!
//! 1. **parse** the attribute ([`attr`]) and the annotated item ([`item`]);
//! 2. **check** the signature and classify each parameter ([`params`]) into a [`Handler`];
//! 3. **expand** the checked handler (`crate::expand`).
//!
//! Every value keeps the span it was written at, so a later stage reports where the user wrote it.

pub(crate) mod attr;
pub(crate) mod item;
pub(crate) mod params;
pub(crate) mod responds;
pub(crate) mod types;

use layers_spec::storage::{StorageKind, KINDS};
use syn::{Ident, Type};

use attr::HandlerAttr;
use item::Item;

/// The kinds of handler layers' macros describe.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum HandlerKind {
    /// `#[route(…)]`.
    Route,
    /// `#[scheduled("cron", …)]`.
    Cron,
    /// `#[queue("name", …)]`.
    Queue,
    /// The method of a `#[durable_object]` impl.
    DurableObject,
}

impl HandlerKind {
    /// What messages call it.
    pub(crate) fn what(self) -> &'static str {
        match self {
            HandlerKind::Route => "handler",
            HandlerKind::Cron => "cron handler",
            HandlerKind::Queue => "queue handler",
            HandlerKind::DurableObject => "Durable Object handler",
        }
    }

    /// One handler of this kind, named fully ("a route handler cannot be `const`").
    pub(crate) fn noun(self) -> &'static str {
        match self {
            HandlerKind::Route => "route handler",
            other => other.what(),
        }
    }

    /// The handlers of this kind, as a rule's subject ("route handlers must be …").
    pub(crate) fn plural(self) -> &'static str {
        match self {
            HandlerKind::Route => "route handlers",
            HandlerKind::Cron => "cron handlers",
            HandlerKind::Queue => "queue handlers",
            HandlerKind::DurableObject => "Durable Object handlers",
        }
    }

    /// A short example of its attribute.
    pub(crate) fn example(self) -> &'static str {
        match self {
            HandlerKind::Route => "#[route(GET \"/\", identity = Public)]",
            HandlerKind::Cron => "#[scheduled(\"0 2 * * SUN\", storage(D1))]",
            HandlerKind::Queue => "#[queue(\"reindex\", storage(D1))]",
            HandlerKind::DurableObject => "#[durable_object(storage(D1))]",
        }
    }

    /// Where its storage is declared, as messages say it.
    pub(crate) fn declared_in(self) -> &'static str {
        match self {
            HandlerKind::Route => "its route",
            HandlerKind::Cron | HandlerKind::Queue => "its attribute",
            HandlerKind::DurableObject => "`#[durable_object]`",
        }
    }

    /// What one call serves, as messages say how long its values live.
    pub(crate) fn scope(self) -> &'static str {
        match self {
            HandlerKind::Route => "request",
            HandlerKind::Cron | HandlerKind::Queue => "event",
            HandlerKind::DurableObject => "call",
        }
    }

    /// The identity every handler of this kind runs as, when the kind fixes it (a route
    /// declares its own).
    pub(crate) fn fixed_identity(self) -> Option<&'static str> {
        match self {
            HandlerKind::Route => None,
            HandlerKind::Cron | HandlerKind::Queue => Some("System"),
            HandlerKind::DurableObject => Some("DurableCaller"),
        }
    }

    /// Whether a handler of this kind can be given a parameter of this role.
    pub(crate) fn accepts(self, role: Role) -> bool {
        match role {
            Role::Claims | Role::Storage(_) => true,
            Role::Request | Role::After | Role::Grant(Grant::Federation | Grant::Issuer) | Role::Part | Role::Body => {
                self == HandlerKind::Route
            }
            Role::Vars | Role::Outbound | Role::Grant(Grant::Mint) => self != HandlerKind::DurableObject,
            Role::Batch => self == HandlerKind::Queue,
            Role::Message | Role::ObjectStorage => self == HandlerKind::DurableObject,
        }
    }

    /// The parameters a handler of this kind can take, for messages (the storage handles from
    /// `layers_spec`'s table).
    pub(crate) fn accepted(self) -> String {
        let handles: Vec<String> = KINDS
            .iter()
            .filter(|k| self == HandlerKind::Route || k.outside_requests)
            .map(|k| if k.typed { format!("`{}<'_, T>`", k.handle) } else { format!("`{}<'_>`", k.handle) })
            .collect();
        let handles = handles.join(", ");
        match self {
            HandlerKind::Route => format!("a handler's parameters are `Request`, `Claims<'_, V>` (required), `Vars`, `Outbound`, `After`, the grants `Mint<'_, C>`, `Federation<'_, C>` and `FederationIssuer<'_, C>`, the extractors `Path<T>`, `Query<T>`, `Cf`, `Headers`, `Cookies` and one body extractor (`Json<T>` or `Form<T>`), and the storage handles its route declares in `storage(…)` ({handles})"),
            HandlerKind::Cron => format!("a cron handler's parameters are `Claims<'_, System>` (required), `Vars`, `Outbound`, `Mint<'_, C>`, and the storage handles its attribute declares in `storage(…)` ({handles})"),
            HandlerKind::Queue => format!("a queue handler's parameters are `Batch<'_, T>` (required), `Claims<'_, System>` (required), `Vars`, `Outbound`, `Mint<'_, C>`, and the storage handles its attribute declares in `storage(…)` ({handles})"),
            HandlerKind::DurableObject => format!("a Durable Object handler takes `&self`, its message (one `Serialize + Deserialize` type), `Claims<'_, DurableCaller>` (required), `ObjectStorage<'_>` (the object's own storage), and the storage handles `storage(…)` declares ({handles})"),
        }
    }
}

/// What the proof grants beyond storage, taken as a parameter.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Grant {
    /// `Mint<'_, C>`: mints tokens of configuration `C`.
    Mint,
    /// `Federation<'_, C>`: outbound credentials of configuration `C`.
    Federation,
    /// `FederationIssuer<'_, C>`: the public documents of configuration `C`'s issuer.
    Issuer,
}

/// What a handler parameter is, decided by the type it names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Role {
    /// `Request`: the request itself (routes).
    Request,
    /// `Claims<'_, V>`: the proof of identity (every kind, required).
    Claims,
    /// A storage handle (`D1<'_>`, `Kv<'_>`, …) its attribute declares.
    Storage(StorageKind),
    /// `Vars`: plain configuration.
    Vars,
    /// `Outbound`: the outbound HTTP `outbound(…)` declares.
    Outbound,
    /// `After<'_>`: work after the response (routes).
    After,
    /// `Mint<'_, C>` or `Federation<'_, C>`.
    Grant(Grant),
    /// `Path<T>`, `Query<T>`, `Cf`, `Headers`, `Cookies`: read from the request head (routes).
    Part,
    /// `Json<T>`, `Form<T>`: read the body, at most one per handler (routes).
    Body,
    /// `Batch<'_, T>`: a queue consumer's messages (queue handlers, required).
    Batch,
    /// The message a Durable Object is called with (one, required).
    Message,
    /// `ObjectStorage<'_>`: a Durable Object's own storage.
    ObjectStorage,
}

/// One parameter of a checked handler.
pub(crate) struct Param {
    pub(crate) role: Role,
    /// The type as written, with every lifetime replaced by the expansion's `'r` (for the
    /// generated checks and lets, which live in a fn generic over `'r`) — except for the
    /// extractors and a Durable Object's message, whose types are read as written. Its tokens keep the parameter's spans.
    pub(crate) check_ty: Type,
}

/// A handler that passed every check: what the expansion reads.
pub(crate) struct Handler {
    pub(crate) kind: HandlerKind,
    pub(crate) attr: HandlerAttr,
    pub(crate) item: Item,
    pub(crate) params: Vec<Param>,
}

impl Handler {
    /// The name `app!` lists: the fn's, or a Durable Object's class.
    pub(crate) fn name(&self) -> &Ident {
        self.item.name()
    }

    /// The parameters of one role, in order.
    pub(crate) fn of_role(&self, pred: impl Fn(Role) -> bool) -> impl Iterator<Item = &Type> {
        self.params.iter().filter(move |p| pred(p.role)).map(|p| &p.check_ty)
    }
}

#[cfg(test)]
mod tests;
