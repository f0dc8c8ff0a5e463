/**
 * Settings: the phone's identity for the admin (server, device id, the people on it,
 * the app's version), each permission with :shell's explanation and the action that
 * grants it, and "Ponsel hilang atau ganti?" with :shell's steps naming this phone's
 * id. Composed from :shell's [id.go.hadir.shell.SettingsScreen] and [Permissions].
 */
package id.go.hadir.app.ui.settings

import android.Manifest
import android.os.Build
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.TextButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableIntStateOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.lifecycle.compose.LifecycleResumeEffect
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import id.go.hadir.app.R
import id.go.hadir.app.ui.common.HadirScaffold
import id.go.hadir.app.ui.common.PermissionCard
import id.go.hadir.app.ui.common.ProblemCard
import id.go.hadir.app.ui.common.ScreenColumn
import id.go.hadir.app.ui.common.SecondButton
import id.go.hadir.app.ui.common.SectionCard
import id.go.hadir.app.ui.common.permissionStatus
import id.go.hadir.shell.AppPermission
import id.go.hadir.shell.Permissions
import id.go.hadir.shell.Problem
import id.go.hadir.shell.Remedy
import id.go.hadir.shell.SettingsScreen
import id.go.hadir.shell.SettingsState
import id.go.hadir.shell.problem

/**
 * The Android permissions asked for each of :shell's [AppPermission]s, the one that
 * decides first (null: nothing to ask on this Android). Precise location is granted
 * only when asked together with approximate location (Android 12+).
 */
private fun AppPermission.androidPermissions(): Array<String>? = when (this) {
    AppPermission.LOCATION -> arrayOf(Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.ACCESS_COARSE_LOCATION)
    AppPermission.CAMERA -> arrayOf(Manifest.permission.CAMERA)
    AppPermission.NOTIFICATIONS ->
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) arrayOf(Manifest.permission.POST_NOTIFICATIONS) else null
}

/** The settings screen. */
@Composable
fun AppSettingsScreen(viewModel: SettingsViewModel, onBack: () -> Unit, onReset: () -> Unit) {
    val result by viewModel.state.collectAsStateWithLifecycle()
    val resetWarning by viewModel.resetWarning.collectAsStateWithLifecycle()
    // Bumped on resume and after each answer, so the permissions are read again.
    var permissionsRead by remember { mutableIntStateOf(0) }
    LifecycleResumeEffect(viewModel) {
        viewModel.refresh()
        permissionsRead++
        onPauseOrDispose { }
    }
    HadirScaffold(stringResource(R.string.settings_title), onBack) { padding ->
        ScreenColumn(padding, Modifier.verticalScroll(rememberScrollState())) {
            val current = result
            if (current != null) {
                val settings = current.getOrNull()
                if (settings != null) {
                    Identity(settings)
                } else {
                    ProblemCard(
                        current.exceptionOrNull()?.problem
                            ?: Problem("SETTINGS_UNREADABLE", stringResource(R.string.settings_unreadable), Remedy.RETRY),
                        onRetry = viewModel::refresh,
                    )
                }
            }
            Text(stringResource(R.string.settings_permissions), style = MaterialTheme.typography.titleLarge)
            for (permission in AppPermission.entries) {
                PermissionRow(permission, permissionsRead, onAnswered = { permissionsRead++ })
            }
            result?.getOrNull()?.let { LostPhone(it) }
            SecondButton(SettingsScreen.RESET_ACTION, viewModel::askReset)
        }
    }
    resetWarning?.let { warning ->
        AlertDialog(
            onDismissRequest = viewModel::cancelReset,
            title = { Text(SettingsScreen.RESET_ACTION) },
            text = { Text(warning) },
            confirmButton = { TextButton(onClick = { viewModel.confirmReset(onReset) }) { Text(stringResource(R.string.settings_reset_confirm)) } },
            dismissButton = { TextButton(onClick = viewModel::cancelReset) { Text(stringResource(R.string.action_cancel)) } },
        )
    }
}

/** Server, device id, people and version. */
@Composable
private fun Identity(state: SettingsState) {
    SectionCard(null) {
        Labelled(stringResource(R.string.settings_server), state.serverUrl)
        Labelled(stringResource(R.string.settings_device), state.deviceId ?: "–")
        Labelled(stringResource(R.string.settings_people), state.people.joinToString("\n").ifEmpty { "–" })
        Labelled(stringResource(R.string.settings_version), state.appVersion)
    }
}

/** "Ponsel hilang atau ganti?": :shell's steps. */
@Composable
private fun LostPhone(state: SettingsState) {
    SectionCard(stringResource(R.string.settings_lost_phone)) {
        state.lostPhone.forEachIndexed { index, step ->
            Text("${index + 1}. $step", style = MaterialTheme.typography.bodyLarge)
        }
    }
}

/** One permission: granted, or why it is needed and what to do. */
@Composable
private fun PermissionRow(permission: AppPermission, readCount: Int, onAnswered: () -> Unit) {
    val context = LocalContext.current
    val permissions = permission.androidPermissions() ?: return
    var asked by rememberSaveable(permission) { mutableStateOf(false) }
    val launcher = rememberLauncherForActivityResult(ActivityResultContracts.RequestMultiplePermissions()) { onAnswered() }
    // Read again whenever readCount changes (resume, an answer).
    val status = remember(readCount, asked) { context.permissionStatus(permissions.first(), asked) }
    val title = stringResource(
        when (permission) {
            AppPermission.LOCATION -> R.string.permission_location
            AppPermission.CAMERA -> R.string.permission_camera
            AppPermission.NOTIFICATIONS -> R.string.permission_notifications
        },
    )
    val explanation = Permissions.explain(permission, status)
    PermissionCard(
        explanation,
        onAskAgain = {
            asked = true
            launcher.launch(permissions)
        },
        title = if (explanation.action == null) "$title: ${stringResource(R.string.permission_granted)}" else title,
    )
}

/** A small label over its value. */
@Composable
private fun Labelled(label: String, value: String) {
    Text(label, style = MaterialTheme.typography.labelMedium)
    Text(value, style = MaterialTheme.typography.bodyLarge)
}
