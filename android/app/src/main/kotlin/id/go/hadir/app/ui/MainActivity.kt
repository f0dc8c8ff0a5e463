/**
 * Hadir's one activity: edge-to-edge, Hadir's theme, and the Compose screens. It
 * waits for [AppViewModel] to read, off the main thread, whether consent was given and
 * the phone enrolled; shows why if the engine cannot open; then hands over to
 * [HadirNavHost] with the phone's device id for the revoked-device text.
 */
package id.go.hadir.app.ui

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.enableEdgeToEdge
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.size
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.viewmodel.compose.viewModel
import id.go.hadir.app.HadirApplication
import id.go.hadir.app.R
import id.go.hadir.app.ui.common.HadirScaffold
import id.go.hadir.app.ui.common.LocalDeviceId
import id.go.hadir.app.ui.common.ProblemCard
import id.go.hadir.app.ui.common.ScreenColumn
import id.go.hadir.app.ui.theme.HadirTheme
import id.go.hadir.shell.Problem
import id.go.hadir.shell.Remedy

/** The launcher activity. */
class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        enableEdgeToEdge()
        super.onCreate(savedInstanceState)
        val app = application as HadirApplication
        setContent {
            HadirTheme {
                val appViewModel = viewModel { AppViewModel(app) }
                val start by appViewModel.start.collectAsStateWithLifecycle()
                when (val s = start) {
                    AppStart.Loading -> Surface(Modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) {
                        Box(contentAlignment = Alignment.Center) { CircularProgressIndicator(Modifier.size(56.dp)) }
                    }
                    is AppStart.Failed -> HadirScaffold(stringResource(R.string.app_name), onBack = null) { padding ->
                        ScreenColumn(padding) {
                            val problem = s.problem
                                ?: Problem("APP_KEYSTORE", stringResource(R.string.app_start_failed), Remedy.RETRY)
                            ProblemCard(problem, onRetry = appViewModel::load)
                        }
                    }
                    is AppStart.Ready -> CompositionLocalProvider(LocalDeviceId provides s.deviceId) {
                        HadirNavHost(app, s, onSessionChanged = appViewModel::load)
                    }
                }
            }
        }
    }
}
