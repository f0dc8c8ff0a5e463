/**
 * Where the app starts, decided off the main thread from :shell: consent first
 * ([id.go.hadir.shell.Consent.accepted]), then the owner's enrollment until the
 * session has an enrolled engine ([id.go.hadir.shell.HadirSession.engine]), then
 * home. Read again after consent and after the first enrollment, which open the way on.
 */
package id.go.hadir.app.ui

import androidx.lifecycle.ViewModel
import androidx.lifecycle.viewModelScope
import id.go.hadir.app.HadirApplication
import id.go.hadir.core.HadirEngine
import id.go.hadir.core.HadirException
import id.go.hadir.core.PlatformException
import id.go.hadir.shell.Problem
import id.go.hadir.shell.toProblem
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch

/** What the app can show. */
sealed interface AppStart {
    /** Opening the engine and reading the settings. */
    data object Loading : AppStart

    /**
     * Ready: [engine] is the session's engine once this phone is enrolled (null
     * before), [deviceId] the id the server knows it by.
     */
    data class Ready(val consentAccepted: Boolean, val engine: HadirEngine?, val deviceId: String?) : AppStart

    /** The engine could not open; [problem] is null when the Keystore failed (no engine message). */
    data class Failed(val problem: Problem?) : AppStart
}

/** The app's start, for MainActivity. */
class AppViewModel(private val app: HadirApplication) : ViewModel() {
    private val mutable = MutableStateFlow<AppStart>(AppStart.Loading)

    /** Where the app stands. */
    val start: StateFlow<AppStart> = mutable

    init {
        load()
    }

    /** Reads the consent and the session again (after consent, enrollment, a retry). */
    fun load() {
        mutable.value = AppStart.Loading
        viewModelScope.launch(Dispatchers.IO) {
            mutable.value = try {
                val engine = app.engine()
                val deviceId = engine?.deviceId()
                AppStart.Ready(app.consent.accepted, engine.takeIf { deviceId != null }, deviceId)
            } catch (e: HadirException) {
                AppStart.Failed(e.toProblem())
            } catch (e: PlatformException) {
                AppStart.Failed(null)
            }
        }
    }
}
