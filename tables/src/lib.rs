//! What a Tern fleet's services share about their AWS tables. The control plane
//! writes campaigns and the bidders read them; both go through [`campaigns`], so
//! an item one writes is one the other reads, validated by the same campaign
//! model (`tern_engine::campaign`). Both load the SDK and describe failed calls
//! the same way ([`sdk`]), and local setups create the tables alike ([`schema`]). The bidders
//! keep their spend in the ledger of [`spend`], which the control plane reads.

pub mod campaigns;
pub mod schema;
pub mod sdk;
pub mod spend;
