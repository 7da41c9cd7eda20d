//! The table, JSON and CSV forms of pipelines, the board and the forecast.

use std::io::Write as _;

use anyhow::Result;
use crm_core::report::{BoardColumn, Forecast, ForecastRow};
use crm_core::store::pipeline::Pipeline;

use crate::cli::Format;
use crate::output::{self, Row, print_json, short_id, write_table};

/// A pipeline as `pipeline list` prints it.
impl Row for Pipeline {
    fn headers() -> Vec<&'static str> {
        vec!["name", "default", "stages", "version", "id"]
    }
    fn cells(&self) -> Vec<String> {
        let stages: Vec<String> = self
            .stages
            .iter()
            .map(|s| format!("{} {}%", s.name, s.probability.normalize()))
            .collect();
        vec![
            self.name.clone(),
            if self.is_default { "yes" } else { "" }.to_string(),
            stages.join(" → "),
            self.version.to_string(),
            self.id.to_string(),
        ]
    }
}

/// Prints one pipeline: JSON, a summary and the stage table, or the stages as CSV.
pub(super) fn print_pipeline(format: Format, p: &Pipeline) -> Result<()> {
    let stage_rows = || {
        p.stages.iter().map(|s| {
            vec![
                s.position.to_string(),
                s.name.clone(),
                s.probability.normalize().to_string(),
                s.id.to_string(),
            ]
        })
    };
    match format {
        Format::Json | Format::Ndjson => print_json(format, p),
        Format::Csv => {
            let stdout = crate::pipe::stdout();
            let mut w = crate::output::csv_writer(stdout.lock())?;
            w.write_row(["position", "name", "probability", "id"])?;
            for r in stage_rows() {
                w.write_row(r)?;
            }
            w.flush()?;
            Ok(())
        }
        Format::Table => {
            let stdout = crate::pipe::stdout();
            let mut out = stdout.lock();
            writeln!(
                out,
                "{}{} (version {}, id {})",
                p.name,
                if p.is_default { " [default]" } else { "" },
                p.version,
                p.id
            )?;
            write_table(
                &mut out,
                &["position", "stage", "probability %", "id"],
                stage_rows(),
            )?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Prints the board: JSON columns, or one row per deal (and per empty stage).
pub(super) fn print_board(format: Format, columns: &[BoardColumn]) -> Result<()> {
    if matches!(format, Format::Json | Format::Ndjson) {
        return print_json(format, &columns);
    }
    let csv = format == Format::Csv;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for c in columns {
        if c.deals.is_empty() && !csv {
            rows.push(vec![
                c.stage.clone(),
                String::new(),
                String::new(),
                String::new(),
            ]);
            continue;
        }
        for d in &c.deals {
            let company = d.company.clone().unwrap_or_default();
            rows.push(if csv {
                vec![
                    c.stage.clone(),
                    d.title.clone(),
                    d.value.to_string(),
                    d.currency.clone(),
                    company,
                    d.days_in_stage.to_string(),
                    d.id.to_string(),
                ]
            } else {
                vec![
                    c.stage.clone(),
                    d.title.clone(),
                    format!("{} {}", d.value, d.currency),
                    company,
                    d.days_in_stage.to_string(),
                    short_id(d.id),
                ]
            });
        }
    }
    let stdout = crate::pipe::stdout();
    let mut out = stdout.lock();
    if csv {
        let mut w = crate::output::csv_writer(&mut out)?;
        w.write_row([
            "stage",
            "title",
            "value",
            "currency",
            "company",
            "days_in_stage",
            "id",
        ])?;
        for r in rows {
            w.write_row(r)?;
        }
        w.flush()?;
    } else {
        // Stages without deals get a row with blanks past the stage name.
        let rows = rows.into_iter().map(|mut r| {
            r.resize(6, String::new());
            r
        });
        write_table(
            &mut out,
            &["stage", "deal", "value", "company", "days in stage", "id"],
            rows,
        )?;
    }
    out.flush()?;
    Ok(())
}

impl Row for ForecastRow {
    fn headers() -> Vec<&'static str> {
        vec!["month", "currency", "deals", "value", "weighted"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.month
                .map(|m| m.format("%Y-%m").to_string())
                .unwrap_or_else(|| "no date".into()),
            self.currency.clone(),
            self.deals.to_string(),
            self.value.to_string(),
            self.weighted.to_string(),
        ]
    }
}

/// Prints the forecast: JSON, or its rows as a table or CSV.
pub(super) fn print_forecast(format: Format, f: &Forecast) -> Result<()> {
    match format {
        Format::Json | Format::Ndjson => print_json(format, f),
        other => output::list(other, &f.rows),
    }
}
