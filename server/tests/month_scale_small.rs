//! The province-scale generator (`examples/month_scale`) at 300 people, for CI: the same
//! code that fills the 50,000-person benchmark database must give a recap with one row
//! per person, every day of October 2026 accounted for, and an XLSX that is written.

#[path = "../examples/month_scale/scale.rs"]
mod scale;

const PEOPLE: usize = 300;

#[test]
fn a_generated_month_of_300_people_recaps_every_working_day_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hadir.db");
    let storage = scale::open(&db);
    scale::setup(&storage, PEOPLE, dir.path());
    let secret = scale::anchor_secret(&storage);
    let stats = scale::insert_checkins(&db, PEOPLE, &secret);
    assert!(
        stats.rows > (PEOPLE * 22 * 3) as u64 && stats.rows <= (PEOPLE * 22 * 4) as u64,
        "{stats:?}"
    );
    assert!(stats.flagged > 0 && stats.rejected > 0 && stats.accepted > stats.rows * 9 / 10);

    let recap = hadir_server::month::recap::compute(&storage, scale::MONTH, None).unwrap();
    assert_eq!(recap.rows.len(), PEOPLE);
    let (mut late, mut absent, mut on_leave) = (0, 0, 0);
    for row in &recap.rows {
        let c = &row.counted;
        let leave: u32 = c.leave_days.values().sum();
        assert_eq!(c.working_days, 22, "{}", row.person_key);
        assert_eq!(
            c.present_days + c.tk_days + leave,
            22,
            "{}: {c:?}",
            row.person_key
        );
        late += c.tl.iter().sum::<u32>();
        absent += c.tk_days;
        on_leave += leave;
    }
    // Every 250th person (two of 300) has two days of cuti; lateness and absence occur.
    assert_eq!(on_leave, 4);
    assert!(late > 0 && absent > 0, "late {late}, absent {absent}");
    let flagged: u32 = recap.rows.iter().map(|r| r.flags_pending).sum();
    assert!(flagged > 0);

    let xlsx = dir.path().join("rekap.xlsx");
    hadir_server::month::export::write_xlsx(&recap, &xlsx, &mut |_, _| {}).unwrap();
    assert!(std::fs::metadata(&xlsx).unwrap().len() > 0);
}
