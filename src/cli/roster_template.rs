//! `guobao roster-template`: write the roster a township fills in.

use super::{connect, fail, write_file, RosterTemplateArgs};
use guobao::app;
use guobao::config::Config;
use std::process::ExitCode;

pub fn run(args: RosterTemplateArgs, config: &Config) -> ExitCode {
    let RosterTemplateArgs {
        township,
        scheme,
        output,
    } = args;
    let res = connect(config).and_then(|mut c| {
        let bytes = app::reports::roster_template(
            &mut c,
            &app::Actor::system(),
            &township,
            scheme.as_deref(),
        )?;
        write_file(&output, &bytes)
    });
    match res {
        Ok(()) => {
            println!("已写出花名册模板：{}", output.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, false),
    }
}
