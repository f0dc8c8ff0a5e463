/**
 * The base of every screen's ViewModel: it runs the :shell presenter's actions one
 * after another on `Dispatchers.IO` (they touch the engine: SQLite, the network), in
 * the order the screen asked for them, inside `viewModelScope`, so they stop when the
 * screen is gone for good. The presenters turn the engine's failures into their own
 * state; anything else that escapes is logged, never allowed to end the queue.
 */
package id.go.hadir.app.ui.common

import android.util.Log
import androidx.lifecycle.ViewModel
import androidx.lifecycle.viewModelScope
import id.go.hadir.app.platform.LOG_TAG
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch

/** A ViewModel over one :shell presenter: see the file's documentation. */
abstract class ShellViewModel : ViewModel() {
    private val actions = Channel<suspend () -> Unit>(Channel.UNLIMITED)

    init {
        viewModelScope.launch(Dispatchers.IO) {
            for (action in actions) {
                try {
                    action()
                } catch (e: CancellationException) {
                    throw e
                } catch (e: Exception) {
                    // e.g. the Keystore's PlatformException, which :shell does not map.
                    Log.e(LOG_TAG, "${this@ShellViewModel.javaClass.simpleName}: ${e.javaClass.simpleName}: ${e.message}")
                }
            }
        }
    }

    /** Queues [action] behind the ones already asked for. */
    protected fun act(action: suspend () -> Unit) {
        actions.trySend(action)
    }
}
