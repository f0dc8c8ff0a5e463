/**
 * The enrollment screen's ViewModel: owns :shell's [EnrollmentPresenter] (the phone's
 * owner on first run, or a colleague as a guest) and runs its submit, which makes the
 * Keystore key and talks to the server, off the main thread.
 */
package id.go.hadir.app.ui.enrollment

import id.go.hadir.app.ui.common.ShellViewModel
import id.go.hadir.core.PersonKind
import id.go.hadir.shell.Consent
import id.go.hadir.shell.ConsentSection
import id.go.hadir.shell.EnrollmentMode
import id.go.hadir.shell.EnrollmentPresenter
import id.go.hadir.shell.EnrollmentState
import id.go.hadir.shell.HadirSession
import kotlinx.coroutines.flow.StateFlow

/** Holds the enrollment presenter for the screen. */
class EnrollmentViewModel(session: HadirSession, consent: Consent, mode: EnrollmentMode) : ShellViewModel() {
    private val presenter = EnrollmentPresenter(session, consent, mode)

    /** The consent text a colleague (GUEST) reads and agrees to themself. */
    val consentSections: List<ConsentSection> = consent.sections

    /** The colleague ticked or unticked their agreement. */
    fun onGuestConsent(agreed: Boolean) = presenter.onGuestConsent(agreed)

    /** What the screen shows. */
    val state: StateFlow<EnrollmentState> = presenter.state

    fun onCodeChanged(code: String) = presenter.onCodeChanged(code)

    fun onKindChanged(kind: PersonKind) = presenter.onKindChanged(kind)

    fun onPersonIdChanged(value: String) = presenter.onPersonIdChanged(value)

    /** The id field lost focus. */
    fun onPersonIdDone() = presenter.onPersonIdDone()

    /** The scanner read [text] (any thread). */
    fun onQrScanned(text: String) = presenter.onQrScanned(text)

    /** "Daftar". */
    fun submit() = act { presenter.submit() }
}
