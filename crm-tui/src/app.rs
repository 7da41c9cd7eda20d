//! The console's state: plain data, no I/O. Keys change it through [`crate::key`], task
//! results through [`crate::update`]; views only read it.

use chrono::NaiveDate;
use crm_core::console::{Board, Card, CompanyDetail, ContactDetail, DealDetail};
use crm_core::dedupe::{Group, Kind};
use crm_core::search::Hit;
use crm_core::store::activity::Activity;
use crm_core::store::list::ListEntry;
use crm_core::{ActivityId, CompanyId, ContactId, DealId, StageId};
use rust_decimal::Decimal;

use crate::form::Form;

/// A screen of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The pipeline board (tab 1).
    Board,
    /// Search over contacts and companies (tab 2).
    Search,
    /// My due and overdue activities (tab 3).
    Due,
    /// One deal.
    Deal,
    /// One contact.
    Contact,
    /// One company.
    Company,
    /// Candidate duplicate groups of contacts or companies (from the palette).
    Duplicates,
}

impl View {
    /// The views reachable by number or `Tab`, in order.
    pub const TABS: [View; 3] = [View::Board, View::Search, View::Due];

    /// The tab label.
    pub fn label(self) -> &'static str {
        match self {
            View::Board => "Board",
            View::Search => "Contacts & companies",
            View::Due => "Activities",
            View::Deal => "Deal",
            View::Contact => "Contact",
            View::Company => "Company",
            View::Duplicates => "Duplicates",
        }
    }
}

/// Who is working, shown in the header.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// The organization's name.
    pub org: String,
    /// The acting user's e-mail address.
    pub user: String,
    /// Their role.
    pub role: String,
    /// Their id.
    pub id: Option<crm_core::UserId>,
}

/// The board's filter: free text plus `@XY` (owner initials) and `#tag` terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// As typed.
    pub input: String,
}

impl Filter {
    /// Whether a card passes. `owners` are the initials of its owners.
    pub fn matches(&self, card: &Card, owners: &[&str]) -> bool {
        self.input.split_whitespace().all(|term| {
            if let Some(initials) = term.strip_prefix('@') {
                owners.iter().any(|o| o.eq_ignore_ascii_case(initials))
            } else if let Some(tag) = term.strip_prefix('#') {
                card.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
            } else {
                let t = term.to_lowercase();
                card.title.to_lowercase().contains(&t)
                    || card
                        .company
                        .as_deref()
                        .is_some_and(|c| c.to_lowercase().contains(&t))
                    || card
                        .contact
                        .as_deref()
                        .is_some_and(|c| c.to_lowercase().contains(&t))
            }
        })
    }
}

/// The board view.
#[derive(Debug, Clone, Default)]
pub struct BoardState {
    /// The loaded board.
    pub data: Option<Board>,
    /// A load is running.
    pub loading: bool,
    /// Selected column.
    pub col: usize,
    /// Selected row per column (an index into `visible`).
    pub rows: Vec<usize>,
    /// The filter.
    pub filter: Filter,
    /// The filter line has the keyboard.
    pub filter_editing: bool,
    /// Per column, the indices of the cards that pass the filter (kept in step with the data
    /// and the filter, never computed while drawing).
    pub visible: Vec<Vec<usize>>,
    /// `m` was pressed: the next digit names the target stage.
    pub move_pending: bool,
    /// Cards as read before a change that is still running (won, lost, moved): what the
    /// conflict dialog compares with when the change turns out stale.
    pub pending: Vec<Card>,
    /// Per column, the totals of the visible cards per currency: currency, value, weighted
    /// value (kept with `visible`).
    pub sums: Vec<Vec<(String, Decimal, Decimal)>>,
}

impl BoardState {
    /// Recomputes `visible` and clamps the selection.
    pub fn refilter(&mut self) {
        let Some(board) = &self.data else {
            self.visible.clear();
            return;
        };
        let initials = |card: &Card| -> Vec<&str> {
            card.owner_ids
                .iter()
                .filter_map(|id| board.users.iter().find(|u| u.id == *id))
                .map(|u| u.initials.as_str())
                .collect()
        };
        self.visible = board
            .columns
            .iter()
            .map(|c| {
                c.cards
                    .iter()
                    .enumerate()
                    .filter(|(_, card)| self.filter.matches(card, &initials(card)))
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        self.sums = board
            .columns
            .iter()
            .zip(&self.visible)
            .map(|(c, vis)| {
                let mut sums: Vec<(String, Decimal, Decimal)> = Vec::new();
                for card in vis.iter().map(|&i| &c.cards[i]) {
                    let w = card.value * c.probability / Decimal::ONE_HUNDRED;
                    match sums.iter_mut().find(|s| s.0 == card.currency) {
                        Some(s) => {
                            s.1 += card.value;
                            s.2 += w;
                        }
                        None => sums.push((card.currency.clone(), card.value, w)),
                    }
                }
                sums.sort_by(|a, b| a.0.cmp(&b.0));
                sums
            })
            .collect();
        self.col = self.col.min(board.columns.len().saturating_sub(1));
        self.rows.resize(board.columns.len(), 0);
        for (row, vis) in self.rows.iter_mut().zip(&self.visible) {
            *row = (*row).min(vis.len().saturating_sub(1));
        }
    }

    /// The selected card.
    pub fn selected(&self) -> Option<&Card> {
        let board = self.data.as_ref()?;
        let idx = *self.visible.get(self.col)?.get(*self.rows.get(self.col)?)?;
        board.columns.get(self.col)?.cards.get(idx)
    }

    /// The stage of column `col`.
    pub fn stage(&self, col: usize) -> Option<(StageId, &str)> {
        let c = self.data.as_ref()?.columns.get(col)?;
        Some((c.stage_id, c.name.as_str()))
    }

    /// Moves a card between columns locally (the optimistic half of a move), keeping it
    /// selected.
    pub fn move_card(&mut self, id: DealId, to: StageId) {
        let Some(board) = self.data.as_mut() else {
            return;
        };
        let mut taken = None;
        for col in &mut board.columns {
            if let Some(pos) = col.cards.iter().position(|c| c.id == id) {
                taken = Some(col.cards.remove(pos));
            }
        }
        let Some(mut card) = taken else { return };
        card.stage_id = to;
        card.days_in_stage = 0;
        if let Some((ci, col)) = board
            .columns
            .iter_mut()
            .enumerate()
            .find(|(_, c)| c.stage_id == to)
        {
            col.cards.insert(0, card);
            self.col = ci;
            self.refilter();
            self.rows[ci] = self.visible[ci].iter().position(|&i| i == 0).unwrap_or(0);
        }
    }

    /// Remembers the selected card as read, before a change to it.
    pub fn remember(&mut self) {
        if let Some(card) = self.selected().cloned() {
            self.pending.retain(|c| c.id != card.id);
            self.pending.push(card);
        }
    }

    /// The card as read before the running change, forgetting it.
    pub fn forget(&mut self, id: DealId) -> Option<Card> {
        let pos = self.pending.iter().position(|c| c.id == id)?;
        Some(self.pending.remove(pos))
    }

    /// Removes a card (won, lost).
    pub fn remove_card(&mut self, id: DealId) {
        if let Some(board) = self.data.as_mut() {
            for col in &mut board.columns {
                col.cards.retain(|c| c.id != id);
            }
        }
        self.refilter();
    }
}

/// A selectable list of loaded rows.
#[derive(Debug, Clone)]
pub struct ListState<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Selected index.
    pub selected: usize,
    /// A load is running.
    pub loading: bool,
}

impl<T> Default for ListState<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            selected: 0,
            loading: false,
        }
    }
}

impl<T> ListState<T> {
    /// Replaces the rows, keeping the selection in range.
    pub fn set(&mut self, items: Vec<T>) {
        self.items = items;
        self.selected = self.selected.min(self.items.len().saturating_sub(1));
        self.loading = false;
    }

    /// The selected row.
    pub fn current(&self) -> Option<&T> {
        self.items.get(self.selected)
    }
}

/// Search as you type.
#[derive(Debug, Clone, Default)]
pub struct SearchState {
    /// The query as typed.
    pub query: String,
    /// The query line has the keyboard.
    pub editing: bool,
    /// Hits of the newest answered query.
    pub hits: ListState<Hit>,
    /// Number of the newest query sent; answers to older ones are dropped.
    pub sent: u64,
    /// A query is running: the next one waits for it (one search at a time, always the
    /// newest text), so fast typing never piles queries up on the database.
    pub in_flight: bool,
    /// The text changed while a query was running.
    pub dirty: bool,
}

/// Detail screens: the record shown, and the one being loaded.
#[derive(Debug, Clone, Default)]
pub struct Details {
    /// The deal shown.
    pub deal: Option<DealDetail>,
    /// The deal to show (loading).
    pub deal_id: Option<DealId>,
    /// The contact shown.
    pub contact: Option<ContactDetail>,
    /// The contact to show.
    pub contact_id: Option<ContactId>,
    /// The company shown.
    pub company: Option<CompanyDetail>,
    /// The company to show.
    pub company_id: Option<CompanyId>,
    /// Selected row of the activity list of the detail shown.
    pub activity: usize,
    /// Selected row of the deal list of a contact or company.
    pub deal_row: usize,
    /// The deal list (not the activities) of a contact or company has the keys.
    pub in_deals: bool,
    /// Loading.
    pub loading: bool,
}

/// The duplicates view: candidate groups of one kind, and the group opened.
#[derive(Debug, Clone)]
pub struct DupesState {
    /// Contacts or companies.
    pub kind: Kind,
    /// The groups, best first.
    pub groups: ListState<Group>,
    /// The selected group is open (its records listed).
    pub open: bool,
    /// The selected record of the open group (index into its members).
    pub member: usize,
    /// The record that survives a merge (index into its members; the oldest at first).
    pub survivor: usize,
}

impl Default for DupesState {
    fn default() -> Self {
        Self {
            kind: Kind::Contact,
            groups: ListState::default(),
            open: false,
            member: 0,
            survivor: 0,
        }
    }
}

impl DupesState {
    /// The group selected (and open or not).
    pub fn group(&self) -> Option<&Group> {
        self.groups.current()
    }

    /// The ids of the open group, the survivor first, as a merge takes them.
    pub fn merge_ids(&self) -> Vec<uuid::Uuid> {
        let Some(g) = self.group() else {
            return Vec::new();
        };
        let survivor = self.survivor.min(g.ids.len().saturating_sub(1));
        let mut ids = vec![g.ids[survivor]];
        ids.extend(
            g.ids
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != survivor)
                .map(|(_, id)| *id),
        );
        ids
    }

    /// Keeps the open group's selections in range (after a reload).
    pub fn clamp(&mut self) {
        let n = self.group().map_or(0, |g| g.members.len());
        if n == 0 {
            self.open = false;
        }
        self.member = self.member.min(n.saturating_sub(1));
        self.survivor = self.survivor.min(n.saturating_sub(1));
    }
}

/// What a new activity is linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// A deal.
    Deal(DealId),
    /// A contact.
    Contact(ContactId),
    /// A company.
    Company(CompanyId),
}

/// What a form saves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    /// Changes to a deal read at a version.
    EditDeal {
        /// The deal.
        id: DealId,
        /// Its version when the form opened.
        version: i32,
    },
    /// A new contact.
    NewContact,
    /// A new activity.
    NewActivity(Link),
}

/// A modal dialog over the current view.
#[derive(Debug, Clone)]
pub enum Dialog {
    /// The keys of every view.
    Help,
    /// Lose a deal: pick a reason, add an optional note.
    Lose {
        /// The deal.
        id: DealId,
        /// Its title.
        title: String,
        /// Its version.
        version: i32,
        /// Selected reason (index into the organization's lost reasons).
        reason: usize,
        /// The optional note.
        note: String,
        /// Typing goes into the note.
        in_note: bool,
        /// The error from the last attempt.
        error: Option<String>,
    },
    /// A change was refused because someone else changed the deal first.
    Conflict {
        /// What was tried (`Move to "Angebot"`).
        attempted: String,
        /// The deal.
        id: DealId,
        /// Its version now (a retry uses it).
        version: i32,
        /// Field, value I saw, value now.
        changes: Vec<(String, String, String)>,
        /// When it was changed (as shown), when known.
        at: Option<String>,
        /// The retry with the new version (`f`).
        retry: Option<Retry>,
    },
    /// The command palette.
    Palette {
        /// What was typed.
        input: String,
        /// Selected entry among the matches.
        selected: usize,
    },
    /// A form.
    Form(Form),
    /// Confirm a merge of duplicates.
    Merge {
        /// Contacts or companies.
        kind: Kind,
        /// The records, the survivor first.
        ids: Vec<uuid::Uuid>,
        /// The survivor's name (as shown in the group).
        survivor: String,
    },
}

/// A refused change that can be applied again to the newer version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// Move to a stage.
    Move {
        /// The stage.
        stage: StageId,
        /// Its name.
        name: String,
    },
    /// Win.
    Win,
}

/// A one-line message over the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    /// The text.
    pub text: String,
    /// Error (red) or information.
    pub error: bool,
}

/// The live link to the event outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Live {
    /// Not started yet.
    #[default]
    Off,
    /// Listening.
    Connected,
    /// Lost; retrying.
    Reconnecting,
}

/// The whole console state.
#[derive(Debug, Clone)]
pub struct App {
    /// Who is working.
    pub me: Identity,
    /// Today (in the user's time zone), for overdue markers.
    pub today: NaiveDate,
    /// Colours allowed (`NO_COLOR` unset).
    pub color: bool,
    /// German labels (`LANG=de...`).
    pub german: bool,
    /// The acting user's time zone: times are shown and typed times read in it.
    pub zone: crm_core::domain::Zone,
    /// The view shown.
    pub view: View,
    /// Views to return to with `Esc`.
    pub back: Vec<View>,
    /// The board.
    pub board: BoardState,
    /// Search.
    pub search: SearchState,
    /// My due activities.
    pub due: ListState<Activity>,
    /// Detail screens.
    pub detail: Details,
    /// Duplicate groups.
    pub dupes: DupesState,
    /// The organization's active lost reasons.
    pub lost_reasons: Vec<ListEntry>,
    /// The open dialog.
    pub dialog: Option<Dialog>,
    /// The banner.
    pub banner: Option<Banner>,
    /// Live link state.
    pub live: Live,
    /// Spinner phase (advanced by the tick).
    pub tick: usize,
    /// Ticks until the view is reloaded by itself after the database was unreachable.
    pub retry_in: Option<u32>,
    /// The loop should end.
    pub quit: bool,
    /// `g` was pressed (for `gg`).
    pub g_pending: bool,
}

impl App {
    /// A fresh console for `me`; nothing loaded yet.
    pub fn new(me: Identity, today: NaiveDate) -> Self {
        Self {
            me,
            today,
            color: true,
            german: false,
            zone: crm_core::domain::Zone::Machine,
            view: View::Board,
            back: Vec::new(),
            board: BoardState::default(),
            search: SearchState::default(),
            due: ListState::default(),
            detail: Details::default(),
            dupes: DupesState::default(),
            lost_reasons: Vec::new(),
            dialog: None,
            banner: None,
            live: Live::Off,
            tick: 0,
            retry_in: None,
            quit: false,
            g_pending: false,
        }
    }

    /// A lost reason's label in the user's language.
    pub fn reason_label<'a>(&self, e: &'a ListEntry) -> &'a str {
        if self.german {
            &e.label_de
        } else {
            &e.label_en
        }
    }

    /// Shows an error banner.
    pub fn error(&mut self, text: impl Into<String>) {
        self.banner = Some(Banner {
            text: text.into(),
            error: true,
        });
    }

    /// Shows an information banner.
    pub fn info(&mut self, text: impl Into<String>) {
        self.banner = Some(Banner {
            text: text.into(),
            error: false,
        });
    }

    /// Whether a load for the current view is running (for the spinner).
    pub fn loading(&self) -> bool {
        match self.view {
            View::Board => self.board.loading,
            View::Search => self.search.hits.loading,
            View::Due => self.due.loading,
            View::Deal | View::Contact | View::Company => self.detail.loading,
            View::Duplicates => self.dupes.groups.loading,
        }
    }

    /// The activities of the detail shown.
    pub fn detail_activities(&self) -> &[Activity] {
        match self.view {
            View::Deal => self.detail.deal.as_ref().map_or(&[], |d| &d.activities),
            View::Contact => self.detail.contact.as_ref().map_or(&[], |d| &d.activities),
            View::Company => self.detail.company.as_ref().map_or(&[], |d| &d.activities),
            _ => &[],
        }
    }

    /// The selected activity of the current view (due list or a detail's timeline).
    pub fn selected_activity(&self) -> Option<&Activity> {
        match self.view {
            View::Due => self.due.current(),
            _ => self.detail_activities().get(self.detail.activity),
        }
    }

    /// The id of the selected activity.
    pub fn selected_activity_id(&self) -> Option<ActivityId> {
        self.selected_activity().map(|a| a.id)
    }
}
