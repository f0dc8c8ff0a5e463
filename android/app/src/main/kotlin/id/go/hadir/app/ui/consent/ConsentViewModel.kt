/**
 * The consent screen's ViewModel: :shell's [Consent] (the sections, the answer).
 * Recording the answer writes the settings file, so it runs off the main thread.
 */
package id.go.hadir.app.ui.consent

import id.go.hadir.app.ui.common.ShellViewModel
import id.go.hadir.shell.Consent
import id.go.hadir.shell.ConsentSection
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow

/** Holds [Consent] for the screen. */
class ConsentViewModel(private val consent: Consent) : ShellViewModel() {
    private val acceptedFlow = MutableStateFlow(false)

    /** The sections to read, in order. */
    val sections: List<ConsentSection> get() = consent.sections

    /** True once the agreement is stored: the app moves on. */
    val accepted: StateFlow<Boolean> = acceptedFlow

    /** "Saya setuju". */
    fun accept() = act {
        consent.accept()
        acceptedFlow.value = true
    }
}
